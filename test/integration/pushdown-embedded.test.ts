import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { pushdownSuite } from './pushdown-suite.js';

describe('push-down on the embedded stores (SQLite + directory)', () => {
  pushdownSuite(async () => {
    const root = await mkdtemp(join(tmpdir(), 'mlmodel-pushdown-'));
    return { env: { HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root' } };
  }, { runs: 40 });
});
