import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { MongoClient } from 'mongodb';
import { describeWithServer } from '../servers/servers.js';
import { servingSuite } from '../serving/serving-suite.js';

/**
 * Issue 18 on the production pair: FerretDB (or mongod) for metadata, MinIO
 * for archives and for the serving base. The model server reads each
 * version's model.onnx from the bucket, as Triton or KServe would from
 * s3://…; config.pbtxt is one object, written whole.
 */
const run = randomBytes(3).toString('hex');

describeWithServer('mongodb', 'serving on MongoDB + MinIO', (mongoUrl) => {
  describeWithServer('minio', 'with MinIO', (minioUrl) => {
    const base = minioUrl.replace(/\/+$/, '');
    const database = `mlmodel_serving_${run}`;
    const mongo = new URL(mongoUrl);
    mongo.pathname = `/${database}`;

    afterAll(async () => {
      const client = new MongoClient(mongoUrl);
      await client.db(database).dropDatabase().catch(() => undefined);
      await client.close();
    });

    servingSuite('FerretDB + MinIO', async () => ({
      HOME: '/nonexistent-home',
      MLMODEL_HOME: `/tmp/mlmodel-serving-${run}`,
      MLMODEL_USER: 'root',
      MLMODEL_MONGODB_URL: mongo.toString(),
      MLMODEL_MINIO_URL: `${base}/mlmodel-serving-${run}`,
      MLMODEL_SERVING_BASE: `${base}/serving-${run}/models`,
    }));
  });
});
