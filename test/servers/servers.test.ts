/**
 * The test servers themselves: what the suites talk to is a real server on
 * loopback, and a server that cannot be built is reported, never faked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without type declarations
import { startServers } from '../../scripts/test-servers.mjs';
import { describeWithServer } from './servers.js';

const scratch = mkdtempSync(join(tmpdir(), 'mlmodel-servers-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describeWithServer('mongodb', 'MongoDB-wire test server', (url) => {
  it('answers buildInfo on loopback', async () => {
    if (!process.env.MLMODEL_TEST_MONGODB_URL) expect(url).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    try {
      const info = await client.db('admin').command({ buildInfo: 1 });
      expect(typeof info.version).toBe('string');
    } finally {
      await client.close();
    }
  });
});

describeWithServer('ferretdbPg', 'FerretDB-on-PostgreSQL test server', (url) => {
  it('is FerretDB on loopback, and its unique indexes refuse a second claim', async () => {
    if (!process.env.MLMODEL_TEST_FERRETDB_PG_URL) expect(url).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    const db = client.db(`servers_test_${process.pid}`);
    try {
      if (!process.env.MLMODEL_TEST_FERRETDB_PG_URL) expect((await client.db('admin').command({ buildInfo: 1 })).ferretdbVersion).toBe('v1.24.2');
      await db.collection('c').createIndex({ k: 1 }, { unique: true });
      await db.collection('c').insertOne({ k: 1 });
      await expect(db.collection('c').insertOne({ k: 1 })).rejects.toMatchObject({ code: 11000 });
    } finally {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    }
  });
});

describeWithServer('minio', 'MinIO test server', (url) => {
  it('is live on loopback', async () => {
    if (!process.env.MLMODEL_TEST_MINIO_URL) expect(url).toMatch(/^http:\/\/[^:]+:[^@]+@127\.0\.0\.1:\d+$/);
    const u = new URL(url);
    const res = await fetch(`${u.protocol}//${u.host}/minio/health/live`);
    expect(res.status).toBe(200);
  });
});

it('reports a server it cannot build instead of faking one', async () => {
  // No Go toolchain on PATH and an empty binary cache: nothing can be built.
  const env = { PATH: '/nonexistent', HOME: scratch, MLMODEL_TEST_BIN_DIR: join(scratch, 'bin') };
  const servers = await startServers({ env });
  try {
    expect(servers.mongodbUrl).toBeNull();
    expect(servers.minioUrl).toBeNull();
    expect(servers.errors.mongodb).toMatch(/go mod download.*failed|ENOENT/);
    expect(servers.errors.minio).toMatch(/go install.*failed|ENOENT/);
  } finally {
    await servers.stop();
  }
});

it('uses servers named by env instead of starting its own', async () => {
  const servers = await startServers({
    env: { PATH: '/nonexistent', MLMODEL_TEST_MONGODB_URL: 'mongodb://10.0.0.1:1/', MLMODEL_TEST_MINIO_URL: 'http://a:b@10.0.0.1:1' },
  });
  expect(servers.mongodbUrl).toBe('mongodb://10.0.0.1:1/');
  expect(servers.minioUrl).toBe('http://a:b@10.0.0.1:1');
  expect(servers.errors).toEqual({});
  await servers.stop();
});
