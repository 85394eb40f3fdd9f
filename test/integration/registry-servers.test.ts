import { describe } from 'vitest';
import { describeWithServer, MONGO_WIRE_SERVERS } from '../servers/servers.js';
import { registrySuite } from './registry-suite.js';
import { atomicSuite } from './atomic-suite.js';
import { serversBackends } from './servers-backend.js';

/**
 * The same walk-through on the production pair: a MongoDB-wire server
 * (FerretDB built by the repo's script, or a real mongod) and MinIO, with
 * a MinIO connector and a MinIO serving base; and the walk-through again
 * with FerretDB over PostgreSQL as the MongoDB-wire server (the races run
 * on the first server only: they test mlmodel's claims, which the
 * concurrency suite also runs on both).
 */
for (const server of MONGO_WIRE_SERVERS) describeWithServer(server, 'registry on MongoDB + MinIO', (mongoUrl) => {
  describeWithServer('minio', 'with MinIO', (minioUrl) => {
    // Each call draws a run id of its own: each MongoDB-wire server gets buckets of its own on the one MinIO.
    const backend = serversBackends(mongoUrl, minioUrl);

    describe('IRIS walk-through', () => {
      registrySuite(backend(''));
    });

    if (server === 'mongodb') {
      describe('delete, import, deploy and rename of one name, raced', () => {
        atomicSuite(backend('-atomic'), { rounds: Number(process.env.MLMODEL_ATOMIC_ROUNDS ?? 25) });
      });
    }
  });
});
