import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry } from '../../src/engine/registry.js';
import type { ResultTable } from '../../src/result/table.js';
import { file, tar } from '../archive/tar-writer.js';
import { databaseOfItsOwn, describeWithServer, MONGO_WIRE_SERVERS } from '../servers/servers.js';

/**
 * Writers importing new versions of one model and tagging each version
 * right after: an import clears `latest` on the version before it while
 * another writer may be tagging that version. On FerretDB v1 an update is a
 * read-then-write of the whole document, so before the import took the
 * model's lock for it, 2–3 of 48 acknowledged tags were lost on each run.
 */
const WRITERS = 4;
const ROUNDS = 8;
const column = (t: ResultTable, name: string) => t.rows.map((r) => r[t.columns.findIndex((c) => c.name === name)]);

const created: string[] = [];
afterAll(async () => {
  for (const d of created) await rm(d, { recursive: true, force: true });
});

for (const server of MONGO_WIRE_SERVERS) describeWithServer(server, 'imports and tags of one model at once', (mongoUrl) => {
  const mongo = databaseOfItsOwn(mongoUrl, `mlmodel_tagrace_${randomBytes(3).toString('hex')}`);
  it(`${WRITERS} writers × ${ROUNDS} import-then-tag rounds lose no acknowledged tag and keep one latest version`, async () => {
    const work = await mkdtemp(join(tmpdir(), 'mlmodel-tagrace-'));
    created.push(work);
    const reg = await openRegistry({ config: loadConfig({ HOME: work, MLMODEL_HOME: join(work, 'home'), MLMODEL_USER: 'root', MLMODEL_MONGODB_URL: mongo }) });
    const acked: Array<{ version: number; tag: string }> = [];
    try {
      let n = 0;
      const writer = async () => {
        for (let i = 0; i < ROUNDS; i++) {
          const k = n++;
          const path = join(work, `a${k}.tar`);
          await writeFile(path, tar(file('saved_model.pb', `graph ${k}`)));
          const version = Number(column(await reg.run(`mlmodel import name=shared type=tf path=${path}`), 'version')[0]);
          await reg.run(`mlmodel tag shared@${version} t${k}`);
          acked.push({ version, tag: `t${k}` });
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, writer));
      const versions = await reg.run('mlmodel versions shared');
      const tags = new Map(column(versions, 'version').map((v, i) => [Number(v), String(column(versions, 'tags')[i] ?? '').split(',')]));
      expect(acked.filter(({ version, tag }) => !tags.get(version)?.includes(tag))).toEqual([]);
      expect(column(versions, 'version').map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: WRITERS * ROUNDS }, (_, i) => i + 1));
      expect(column(versions, 'latest').filter(Boolean)).toHaveLength(1);
      expect((await reg.run('mlmodel fsck grace=0')).rows).toEqual([]);
    } finally {
      await reg.close();
    }
  }, 300_000);
});
