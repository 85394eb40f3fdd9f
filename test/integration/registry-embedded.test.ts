import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe } from 'vitest';
import { readLocal, registrySuite, type Backend } from './registry-suite.js';
import { atomicSuite } from './atomic-suite.js';

/** The embedded default: SQLite file and object directory under the home, a directory connector, a directory serving base. */
async function embedded(): Promise<Backend> {
    const root = await mkdtemp(join(tmpdir(), 'mlmodel-embedded-'));
    const home = join(root, 'home');
    const sources = join(root, 'connector');
    return {
      env: { HOME: root, MLMODEL_HOME: home, MLMODEL_USER: 'root', MLMODEL_CONNECTOR_MIN_AI: sources },
      async putSource(key, body) {
        await mkdir(dirname(join(sources, key)), { recursive: true });
        await writeFile(join(sources, key), body);
      },
      readServed: (path) => readLocal(join(home, 'serving', path)),
      async listObjects(prefix) {
        const base = join(home, 'objects');
        const out: string[] = [];
        const walk = async (dir: string, rel: string): Promise<void> => {
          for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
            const r = rel ? `${rel}/${e.name}` : e.name;
            if (e.isDirectory()) await walk(join(dir, e.name), r);
            else if (r.startsWith(prefix)) out.push(r);
          }
        };
        await walk(base, '');
        return out.sort();
      },
      download: (url) => readFile(url),
    };
}

describe('registry on the embedded stores (SQLite + directory)', () => {
  registrySuite(embedded);
});

describe('delete, import, deploy and rename of one name, raced, on the embedded stores', () => {
  atomicSuite(embedded);
});
