import Database from 'better-sqlite3';

/**
 * The least a logged point or param costs in SQLite: one durable commit of
 * a row inserted and a row updated (synchronous = FULL) — bench:tracking's
 * per-call floor, in-process and behind a bare HTTP server
 * (durable-http-floor.ts).
 */
export function bareCommitter(path: string, mode: 'WAL' | 'DELETE'): { commit(text: string): void; close(): void } {
  const db = new Database(path);
  db.pragma(`journal_mode = ${mode}`);
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS t (a INTEGER PRIMARY KEY, b TEXT); CREATE TABLE IF NOT EXISTS u (k INTEGER PRIMARY KEY, v TEXT); INSERT OR IGNORE INTO u VALUES (1, NULL)');
  const ins = db.prepare('INSERT INTO t (b) VALUES (?)');
  const up = db.prepare('UPDATE u SET v = ? WHERE k = 1');
  const tx = db.transaction((text: string) => {
    ins.run(text);
    up.run(text);
  });
  return { commit: (text) => tx.immediate(text), close: () => db.close() };
}
