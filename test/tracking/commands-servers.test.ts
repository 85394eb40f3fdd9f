/** The tracking commands on the server pair: a MongoDB-wire server (FerretDB) and MinIO. */
import { randomBytes } from 'node:crypto';
import { databaseOfItsOwn, describeWithServer } from '../servers/servers.js';
import { trackingCommandsSuite } from './commands-suite.js';

const tag = randomBytes(3).toString('hex');

describeWithServer('mongodb', 'tracking commands on MongoDB', (mongoUrl) => {
  describeWithServer('minio', 'and MinIO', (minioUrl) => {
    const mongo = databaseOfItsOwn(mongoUrl, `mlmodel_trk_${tag}`);
    trackingCommandsSuite(async () => {
      return {
        HOME: '/nonexistent-home',
        MLMODEL_HOME: `/tmp/mlmodel-trk-${tag}`,
        MLMODEL_USER: 'alice',
        MLMODEL_MONGODB_URL: mongo,
        MLMODEL_MINIO_URL: `${minioUrl.replace(/\/+$/, '')}/mlmodel-trk-${tag}`,
      };
    });
  });
});
