/**
 * How a test file gets a server: the URL from the global setup, or, when it
 * is missing, a failure under CI=true (never a silent skip) and a loud skip
 * elsewhere.
 */
import { MongoClient } from 'mongodb';
import { afterAll, describe, inject, it } from 'vitest';
import './context.js';

export type ServerName = 'mongodb' | 'minio' | 'ferretdbPg';

/** The MongoDB-wire servers a store suite runs on: the default one and FerretDB on PostgreSQL. */
export const MONGO_WIRE_SERVERS = ['mongodb', 'ferretdbPg'] as const;

export function serverUrl(name: ServerName): { url: string | null; kind: string | null; reason: string } {
  const s = inject('mlmodelServers');
  const url = { mongodb: s.mongodbUrl, minio: s.minioUrl, ferretdbPg: s.ferretdbPgUrl }[name];
  const kind = { mongodb: s.mongodbKind, minio: s.minioKind, ferretdbPg: s.ferretdbPgKind }[name];
  return { url, kind, reason: s.errors[name] ?? 'unknown reason' };
}

/**
 * describe() for a suite that needs a server. Without the server: under CI
 * one failing test that carries the reason; elsewhere a skipped suite and a
 * warning on stderr.
 */
export function describeWithServer(name: ServerName, title: string, body: (url: string) => void): void {
  const { url, kind, reason } = serverUrl(name);
  if (url) {
    describe(`${title} [${kind}]`, () => body(url));
    return;
  }
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(title, () => {
      it(`needs a ${name} server`, () => {
        throw new Error(`no ${name} test server: ${reason}`);
      });
    });
    return;
  }
  process.stderr.write(`\n[test-servers] SKIPPING "${title}": no ${name} server (${reason}); under CI=true this fails\n`);
  // A URL that parses (the bodies build URLs from it while vitest collects them), naming no host that exists.
  describe.skip(title, () => body('http://unavailable.invalid/'));
}

/**
 * A database of the suite's own on the MongoDB-wire server, dropped after
 * the suite: its URL. Call it in the suite's describe body.
 */
export function databaseOfItsOwn(mongoUrl: string, database: string): string {
  afterAll(async () => {
    const client = new MongoClient(mongoUrl);
    await client.db(database).dropDatabase().catch(() => undefined);
    await client.close();
  });
  const url = new URL(mongoUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
