import { randomBytes } from 'node:crypto';
import { databaseOfItsOwn, describeWithServer } from '../servers/servers.js';
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
    const mongo = databaseOfItsOwn(mongoUrl, `mlmodel_serving_${run}`);

    servingSuite('FerretDB + MinIO', async () => ({
      HOME: '/nonexistent-home',
      MLMODEL_HOME: `/tmp/mlmodel-serving-${run}`,
      MLMODEL_USER: 'root',
      MLMODEL_MONGODB_URL: mongo,
      MLMODEL_MINIO_URL: `${base}/mlmodel-serving-${run}`,
      MLMODEL_SERVING_BASE: `${base}/serving-${run}/models`,
    }));
  });
});
