import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface HeldLock {
  /** When the holder had the lock (Date.now() in this process, on its "held" line). */
  readonly heldAt: number;
  /** Whether the holder still has it. */
  holding(): boolean;
  /** Resolves when the holder has let go and exited. */
  readonly released: Promise<void>;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Another process takes the SQLite write lock of `dbPath` (BEGIN IMMEDIATE,
 * plus an uncommitted insert, as a writer in mid-transaction has) and holds
 * it for `ms`, then rolls back and exits. Resolves once the lock is held.
 */
export function holdWriteLock(dbPath: string, ms: number): Promise<HeldLock> {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(process.argv[1], { timeout: 60000 });
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO meta (key, value) VALUES ('held-by-test', 'x')").run();
    process.stdout.write('held\\n');
    setTimeout(() => { db.exec('ROLLBACK'); db.close(); process.stdout.write('released\\n'); }, Number(process.argv[2]));
  `;
  const child = spawn(process.execPath, ['-e', script, dbPath, String(ms)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let holding = false;
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const released = new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => {
      holding = false;
      if (code === 0) resolve();
      else reject(new Error(`the lock holder exited with ${code}: ${stderr}`));
    });
  });
  released.catch(() => undefined);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('released')) holding = false;
      if (!holding && out === 'held\n') {
        holding = true;
        resolve({ heldAt: Date.now(), holding: () => holding, released });
      }
    });
    released.catch(reject);
  });
}
