import { randomBytes } from 'node:crypto';
import { describe } from 'vitest';
import { databaseOfItsOwn, describeWithServer } from '../servers/servers.js';
import { pushdownSuite } from './pushdown-suite.js';

const run = randomBytes(3).toString('hex');

describeWithServer('mongodb', 'push-down on MongoDB + MinIO', (mongoUrl) => {
  describeWithServer('minio', 'with MinIO', (minioUrl) => {
    const mongo = databaseOfItsOwn(mongoUrl, `mlmodel_pushdown_${run}`);

    describe('random pipelines', () => {
      pushdownSuite(async () => ({
        env: {
          HOME: '/nonexistent-home',
          MLMODEL_HOME: `/tmp/mlmodel-pushdown-${run}`,
          MLMODEL_USER: 'root',
          MLMODEL_MONGODB_URL: mongo,
          MLMODEL_MINIO_URL: `${minioUrl.replace(/\/+$/, '')}/mlmodel-pushdown-${run}`,
        },
      }), { runs: 20 });
    });
  });
});
