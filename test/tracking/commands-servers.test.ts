/** The tracking commands on the server pair: a MongoDB-wire server (FerretDB) and MinIO. */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll } from 'vitest';
import { describeWithServer } from '../servers/servers.js';
import { trackingCommandsSuite } from './commands-suite.js';

const tag = randomBytes(3).toString('hex');

describeWithServer('mongodb', 'tracking commands on MongoDB', (mongoUrl) => {
  describeWithServer('minio', 'and MinIO', (minioUrl) => {
    const database = `mlmodel_trk_${tag}`;
    afterAll(async () => {
      const client = new MongoClient(mongoUrl);
      await client.db(database).dropDatabase().catch(() => undefined);
      await client.close();
    });
    trackingCommandsSuite(async () => {
      const mongo = new URL(mongoUrl);
      mongo.pathname = `/${database}`;
      return {
        HOME: '/nonexistent-home',
        MLMODEL_HOME: `/tmp/mlmodel-trk-${tag}`,
        MLMODEL_USER: 'alice',
        MLMODEL_MONGODB_URL: mongo.toString(),
        MLMODEL_MINIO_URL: `${minioUrl.replace(/\/+$/, '')}/mlmodel-trk-${tag}`,
      };
    });
  });
});
