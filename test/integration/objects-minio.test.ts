/** `mlmodel objects` on a real MinIO connector (the test servers): the suite of test/commands/objects-suite.ts. */
import { randomBytes } from 'node:crypto';
import { parseS3Url } from '../../src/config/location.js';
import { MinioObjectStore } from '../../src/store/minio.js';
import { browseSuite } from '../commands/objects-suite.js';
import { describeWithServer } from '../servers/servers.js';

describeWithServer('minio', 'mlmodel objects on a MinIO connector', (url) => {
  const base = url.replace(/\/+$/, '');
  const id = randomBytes(3).toString('hex');
  browseSuite(async () => {
    const bucketUrl = `${base}/mlmodel-browse-${id}`;
    const store = new MinioObjectStore({ location: parseS3Url(bucketUrl, 'test') });
    await store.init();
    return { url: bucketUrl, store, missing: `${base}/mlmodel-never-made-${id}` };
  });
});
