/**
 * vitest global setup: starts the real test servers (scripts/test-servers.mjs)
 * when the run includes a suite that needs them, hands their URLs to the
 * test files through provide/inject, and stops them at the end.
 *
 * A server that cannot be had is not an error here: its reason is handed on,
 * and the suites that need it fail under CI=true (skip, loudly, elsewhere).
 */
import type { TestProject } from 'vitest/node';
// @ts-expect-error -- a plain .mjs script without type declarations
import { startServers } from '../../scripts/test-servers.mjs';
import './context.js';

/** Test files that talk to the servers. */
const SERVER_TESTS = /test\/(store|servers|integration|exchange|tracking)\/[^/]*(mongo|minio|servers)[^/]*\.test\.ts$/;
/** The files that also run on FerretDB over PostgreSQL (MONGO_WIRE_SERVERS): only they start it. */
const FERRETDB_PG_TESTS = /test\/(store\/metadata-mongo|integration\/(concurrency|registry|tag-import-race)-servers|servers\/servers)\.test\.ts$/;

interface Servers {
  mongodbUrl: string | null;
  minioUrl: string | null;
  mongodbKind: string | null;
  minioKind: string | null;
  ferretdbPgUrl: string | null;
  ferretdbPgKind: string | null;
  errors: { mongodb?: string; minio?: string; ferretdbPg?: string };
  stop(): Promise<void>;
}

/** Which servers the selected files need: none, the pair, or the pair and FerretDB on PostgreSQL. */
async function wanted(project: TestProject): Promise<{ servers: boolean; ferretdbPg: boolean }> {
  const flag = process.env.MLMODEL_TEST_SERVERS;
  if (flag === 'off' || flag === '0') return { servers: false, ferretdbPg: false };
  if (flag === 'on' || flag === '1') return { servers: true, ferretdbPg: true };
  // The CLI's file filters (`vitest run test/grammar`): start the servers only
  // when a selected file needs them, so other suites don't wait for a build.
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  const { testFiles } = await project.globTestFiles(filters && filters.length > 0 ? filters : undefined);
  const files = testFiles.map((f) => f.replace(/\\/g, '/'));
  return { servers: files.some((f) => SERVER_TESTS.test(f)), ferretdbPg: files.some((f) => FERRETDB_PG_TESTS.test(f)) };
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  const want = await wanted(project);
  const notNeeded = 'not started: no selected test needs it';
  if (!want.servers) {
    project.provide('mlmodelServers', { mongodbUrl: null, minioUrl: null, mongodbKind: null, minioKind: null, ferretdbPgUrl: null, ferretdbPgKind: null,
      errors: { mongodb: notNeeded, minio: notNeeded, ferretdbPg: notNeeded } });
    return;
  }
  const log = (m: string) => process.stderr.write(`[test-servers] ${m}\n`);
  const servers = (await startServers({ env: process.env, log, ferretdbPg: want.ferretdbPg })) as Servers;
  for (const [k, v] of Object.entries(servers.errors)) log(`${k} unavailable: ${v}`);
  project.provide('mlmodelServers', {
    mongodbUrl: servers.mongodbUrl,
    minioUrl: servers.minioUrl,
    mongodbKind: servers.mongodbKind,
    minioKind: servers.minioKind,
    ferretdbPgUrl: servers.ferretdbPgUrl,
    ferretdbPgKind: servers.ferretdbPgKind,
    errors: want.ferretdbPg ? servers.errors : { ...servers.errors, ferretdbPg: notNeeded },
  });
  return async () => {
    await servers.stop();
  };
}
