import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, describe } from 'vitest';
import { describeWithServer } from '../servers/servers.js';
import { pushdownSuite } from './pushdown-suite.js';

const run = randomBytes(3).toString('hex');

describeWithServer('mongodb', 'push-down on MongoDB + MinIO', (mongoUrl) => {
  describeWithServer('minio', 'with MinIO', (minioUrl) => {
    const database = `mlmodel_pushdown_${run}`;
    const mongo = new URL(mongoUrl);
    mongo.pathname = `/${database}`;

    afterAll(async () => {
      const client = new MongoClient(mongoUrl);
      await client.db(database).dropDatabase().catch(() => undefined);
      await client.close();
    });

    describe('random pipelines', () => {
      pushdownSuite(async () => ({
        env: {
          HOME: '/nonexistent-home',
          MLMODEL_HOME: `/tmp/mlmodel-pushdown-${run}`,
          MLMODEL_USER: 'root',
          MLMODEL_MONGODB_URL: mongo.toString(),
          MLMODEL_MINIO_URL: `${minioUrl.replace(/\/+$/, '')}/mlmodel-pushdown-${run}`,
        },
      }), { runs: 20 });
    });
  });
});
