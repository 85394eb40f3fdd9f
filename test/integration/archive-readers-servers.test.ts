/**
 * Issue 15.3 on the production store pair (a MongoDB-wire server and
 * MinIO): every archive GNU tar and Python's tarfile read differently is
 * refused by import and leaves no record and no object. The same suite runs
 * on the embedded stores in test/reliability/archive-readers.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll } from 'vitest';
import { figures, importSuite } from '../reliability/archive-readers-cases.js';
import { describeWithServer } from '../servers/servers.js';

afterAll(() => {
  console.log(`three readers, server stores: ${JSON.stringify(figures)}`);
});

describeWithServer('mongodb', 'import on MongoDB + MinIO', (mongoUrl) => {
  describeWithServer('minio', 'with MinIO', (minioUrl) => {
    const run = randomBytes(3).toString('hex');
    const database = `mlmodel_readers_${run}`;
    const home = join(tmpdir(), `mlmodel-readers-${run}`);
    importSuite(
      'import on the server stores',
      async () => {
        // Built here, not while collecting: a skipped suite is collected with a placeholder URL.
        const mongo = new URL(mongoUrl);
        mongo.pathname = `/${database}`;
        return {
          HOME: '/nonexistent-home',
          MLMODEL_HOME: home,
          MLMODEL_USER: 'root',
          MLMODEL_MONGODB_URL: mongo.toString(),
          MLMODEL_MINIO_URL: `${minioUrl.replace(/\/+$/, '')}/mlmodel-readers-${run}`,
        };
      },
      async () => {
        const client = new MongoClient(mongoUrl);
        await client.db(database).dropDatabase().catch(() => undefined);
        await client.close();
        await rm(home, { recursive: true, force: true });
      },
    );
  });
});
