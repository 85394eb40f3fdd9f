import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servingSuite } from './serving-suite.js';

/** Issue 18 on the embedded pair: SQLite, and a directory as the serving base. */
servingSuite('SQLite + directory', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mlmodel-serving-'));
  // REQUESTS: a directory connector, where `predict file=OBJECTSTORAGE.REQUESTS:<key>` reads request bodies.
  return { HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root', MLMODEL_CONNECTOR_REQUESTS: join(root, 'requests') };
});
