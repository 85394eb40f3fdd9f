/** The tracking commands on the embedded stores (SQLite + directory). */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { trackingCommandsSuite } from './commands-suite.js';

describe('tracking commands on the embedded stores', () => {
  trackingCommandsSuite(async () => {
    const root = await mkdtemp(join(tmpdir(), 'mlmodel-trk-embedded-'));
    return { HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'alice' };
  });
});
