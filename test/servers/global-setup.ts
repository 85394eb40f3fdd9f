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

interface Servers {
  mongodbUrl: string | null;
  minioUrl: string | null;
  mongodbKind: string | null;
  minioKind: string | null;
  errors: { mongodb?: string; minio?: string };
  stop(): Promise<void>;
}

async function wanted(project: TestProject): Promise<boolean> {
  const flag = process.env.MLMODEL_TEST_SERVERS;
  if (flag === 'off' || flag === '0') return false;
  if (flag === 'on' || flag === '1') return true;
  // The CLI's file filters (`vitest run test/grammar`): start the servers only
  // when a selected file needs them, so other suites don't wait for a build.
  const filters = (project.vitest as unknown as { filenamePattern?: string[] }).filenamePattern;
  const { testFiles } = await project.globTestFiles(filters && filters.length > 0 ? filters : undefined);
  return testFiles.some((f) => SERVER_TESTS.test(f.replace(/\\/g, '/')));
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | void> {
  if (!(await wanted(project))) {
    project.provide('mlmodelServers', { mongodbUrl: null, minioUrl: null, mongodbKind: null, minioKind: null, errors: {
      mongodb: 'not started: no selected test needs it', minio: 'not started: no selected test needs it' } });
    return;
  }
  const log = (m: string) => process.stderr.write(`[test-servers] ${m}\n`);
  const servers = (await startServers({ env: process.env, log })) as Servers;
  for (const [k, v] of Object.entries(servers.errors)) log(`${k} unavailable: ${v}`);
  project.provide('mlmodelServers', {
    mongodbUrl: servers.mongodbUrl,
    minioUrl: servers.minioUrl,
    mongodbKind: servers.mongodbKind,
    minioKind: servers.minioKind,
    errors: servers.errors,
  });
  return async () => {
    await servers.stop();
  };
}
