import { describe } from 'vitest';
import { describeWithServer } from '../servers/servers.js';
import { registrySuite } from './registry-suite.js';
import { atomicSuite } from './atomic-suite.js';
import { serversBackends } from './servers-backend.js';

/**
 * The same walk-through on the production pair: a MongoDB-wire server
 * (FerretDB built by the repo's script, or a real mongod) and MinIO, with
 * a MinIO connector and a MinIO serving base.
 */
describeWithServer('mongodb', 'registry on MongoDB + MinIO', (mongoUrl) => {
  describeWithServer('minio', 'with MinIO', (minioUrl) => {
    const backend = serversBackends(mongoUrl, minioUrl);

    describe('IRIS walk-through', () => {
      registrySuite(backend(''));
    });

    describe('delete, import, deploy and rename of one name, raced', () => {
      atomicSuite(backend('-atomic'), { rounds: Number(process.env.MLMODEL_ATOMIC_ROUNDS ?? 25) });
    });
  });
});
