/**
 * Issue 23 §1: the registry on a four-node erasure-coded MinIO (four
 * `minio server` processes on loopback, each with its own drive directory,
 * started by scripts/test-servers.mjs), metadata on the MongoDB-wire test
 * server. The object-store conformance suite and the IRIS walk-through run
 * on it unchanged.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import { parseS3Url } from '../../src/config/location.js';
import { MinioObjectStore } from '../../src/store/minio.js';
import { describeWithServer } from '../servers/servers.js';
import { httpGet, objectConformance } from '../store/objects-conformance.js';
import { registrySuite } from './registry-suite.js';
import { serversBackends } from './servers-backend.js';
import { startCluster, type MinioCluster } from './minio-cluster.js';

const log = (m: string) => process.stderr.write(`[minio-cluster] ${m}\n`);

describeWithServer('mongodb', 'registry on a four-node distributed MinIO', (mongoUrl) => {
  let cluster: MinioCluster;
  beforeAll(async () => {
    cluster = await startCluster(log);
  }, 600_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  /** Each store, each walk-through case, goes through the next node: any node serves every bucket. */
  let turn = 0;
  const nextNode = () => cluster.nodes[turn++ % cluster.nodes.length]!.url;

  describe('object-store conformance', () => {
    const run = randomBytes(3).toString('hex');
    let n = 0;
    objectConformance({
      async open() {
        const store = new MinioObjectStore({ location: parseS3Url(`${nextNode()}/conformance-${run}-${++n}`, 'test') });
        await store.init();
        return store;
      },
      fetchPresigned: httpGet,
    });
  });

  describe('IRIS walk-through', () => {
    registrySuite(serversBackends(mongoUrl, nextNode)(''));
  });
});
