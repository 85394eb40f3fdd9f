import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { isMlmodelError, type MlmodelError } from '../../src/errors.js';
import { file, tar } from '../archive/tar-writer.js';
import { hostileCorpus } from './hostile-corpus.js';

/**
 * Issue 9.2 at the engine level: every archive of the hostile corpus is
 * refused by import (from a local file and from a connector), and — planted
 * in the object store in place of a good model's archive, as a damaged or
 * tampered store would hold it — by pull and deploy. After each refusal:
 * no record, no object, no file written outside a private staging directory,
 * and no staging directory left.
 */
const PKL_LEAD = file('model.pkl', '\u0080\u0004pickled estimator');
const TF_LEAD = file('saved_model.pb', '\u0008\u0001saved model graph');
const CANARY = 'canary: must never change\n';

let root: string;
let victim: string;
let home: string;
let reg: Registry;
let pklArchive: string;
let tfArchive: string;
const counts = { archives: 0, refusals: 0, nodeTarWarned: 0 };

/** Every path under `dir` with what it is and its size, for before/after comparisons. */
async function snapshot(dir: string, skip: (rel: string) => boolean = () => false): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip(r)) continue;
      const st = await lstat(join(d, e.name));
      out.push(`${r} ${e.isDirectory() ? 'dir' : e.isFile() ? `file ${st.size}` : 'other'}`);
      if (e.isDirectory()) await walk(join(d, e.name), r);
    }
  };
  await walk(dir, '');
  return out.sort();
}

/** The tree outside the registry's own database (which SQLite may touch on any query). */
const tree = () => snapshot(root, (r) => /^home\/mlmodel\.db/.test(r));

async function refused(p: Promise<unknown>): Promise<MlmodelError> {
  try {
    await p;
  } catch (e) {
    if (isMlmodelError(e)) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

async function archiveFileOf(name: string): Promise<string> {
  const before = new Set(await snapshot(join(home, 'objects')));
  await reg.run(`mlmodel import name=${name} type=${name.startsWith('tf') ? 'tf' : 'sklearn'} path=${join(root, 'inbox', `${name}.tar`)}`);
  const added = (await snapshot(join(home, 'objects'))).filter((l) => !before.has(l) && / file /.test(l) && /\/archive /.test(l));
  expect(added).toHaveLength(1);
  return join(home, 'objects', added[0]!.split(' ')[0]!);
}

/** What node-tar says about an archive in strict mode: its warnings and errors. */
async function nodeTarWarnings(bytes: Buffer): Promise<string[]> {
  const warnings: string[] = [];
  await new Promise<void>((resolve) => {
    const p = new Parser({ strict: false, onwarn: (code: string, message: string | Error) => warnings.push(`${code}: ${String(message)}`) } as never);
    p.on('entry', (e: { resume(): void }) => e.resume());
    p.on('error', (e: Error) => {
      warnings.push(`error: ${e.message}`);
      resolve();
    });
    p.on('end', () => resolve());
    p.on('close', () => resolve());
    try {
      p.end(bytes);
    } catch (e) {
      warnings.push(`threw: ${String(e)}`);
      resolve();
    }
  });
  return warnings;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-hostile-'));
  victim = join(root, 'victim');
  home = join(root, 'home');
  await mkdir(victim);
  await writeFile(join(victim, 'canary'), CANARY);
  await mkdir(join(root, 'inbox'));
  await mkdir(join(root, 'connector', 'in'), { recursive: true });
  await writeFile(join(root, 'inbox', 'pkl_victim.tar'), tar(PKL_LEAD));
  await writeFile(join(root, 'inbox', 'tf_victim.tar'), tar(TF_LEAD));
  reg = await openRegistry({
    config: loadConfig({ HOME: root, MLMODEL_HOME: home, MLMODEL_USER: 'root', MLMODEL_CONNECTOR_IN: join(root, 'connector') }),
  });
  pklArchive = await archiveFileOf('pkl_victim');
  tfArchive = await archiveFileOf('tf_victim');
});

afterAll(async () => {
  console.log(
    `hostile archives: ${counts.archives} generated, ${counts.refusals} refusals by import/pull/deploy checked; node-tar warned or failed on ${counts.nodeTarWarned} of them`,
  );
  await reg?.close();
  await rm(root, { recursive: true, force: true });
});

/** Built once: the corpus for imports (absolute names into the victim directory) and for planting in place of the tf model. */
let built: { pkl: ReturnType<typeof hostileCorpus>; tf: ReturnType<typeof hostileCorpus> } | undefined;
const corpora = () => (built ??= { pkl: hostileCorpus(PKL_LEAD, victim), tf: hostileCorpus(TF_LEAD, victim) });

describe('hostile archives through the engine', () => {
  // Only the names and the count here (the victim directory is known once the suite runs).
  const corpus = hostileCorpus(PKL_LEAD, '/VICTIM');
  it('the corpus covers every case of issue 9.2', () => {
    const names = corpus.map((c) => c.what).join('\n');
    for (const needed of [
      'absolute', '////', '\\.\\. traversal', 'symlink inside', 'symlink outside', 'hardlink inside', 'hardlink outside',
      'hardlink followed by a file of the same name', 'ß and ss', 'FIFO', 'device', 'negative size', 'oversized size',
      'truncated body', '1,100', '300-byte', '100,000 entries', 'gzip bomb', 'random bytes', 'duplicate entries', 'NUL',
      'terminal escape',
    ]) {
      expect(names).toMatch(new RegExp(needed));
    }
  });

  it('a good archive still imports, pulls and deploys (the harness can succeed)', async () => {
    await writeFile(join(root, 'inbox', 'good.tar'), tar(PKL_LEAD, file('extra/weights.bin', 'w')));
    expect((await reg.run(`mlmodel import name=good type=sklearn path=${join(root, 'inbox', 'good.tar')}`)).rows[0]![0]).toBe('ok');
    const pulled = await reg.run(`mlmodel pull good to=${join(root, 'pulled-good')}`);
    expect(pulled.rows).toHaveLength(2);
    expect(await readFile(join(root, 'pulled-good', 'extra', 'weights.bin'), 'utf8')).toBe('w');
    expect((await reg.run('mlmodel deploy tf_victim')).rows[0]![0]).toBe('on');
    await reg.run('mlmodel stop tf_victim');
    await reg.run('mlmodel delete good');
    await rm(join(root, 'pulled-good'), { recursive: true });
  });

  for (const [i, c] of corpus.entries()) {
    it(`refuses ${c.what} on import, pull and deploy, leaving nothing behind`, async () => {
      const forImport = corpora().pkl[i]!;
      const before = await tree();
      counts.archives++;

      // import from a local file
      const src = join(root, 'inbox', `hostile-${i}.tar`);
      await writeFile(src, forImport.bytes);
      const withSource = await tree();
      const imp = await refused(reg.run(`mlmodel import name=hostile_${i} type=sklearn path=${src}`));
      expect(imp.code, imp.message).toBe('ARCHIVE_INVALID');
      expect(forImport.reasons).toContain(imp.details['reason']);
      expect(imp.message).toMatch(/^archive refused: /);
      // eslint-disable-next-line no-control-regex -- control characters are what must not appear
      expect(imp.message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      counts.refusals++;
      // import from a connector
      await writeFile(join(root, 'connector', 'in', `h${i}.tar`), forImport.bytes);
      const viaConnector = await refused(reg.run(`mlmodel import name=hostile_${i} type=sklearn path=OBJECTSTORAGE.IN:in/h${i}.tar`));
      expect(viaConnector.code).toBe('ARCHIVE_INVALID');
      counts.refusals++;
      await rm(join(root, 'connector', 'in', `h${i}.tar`));
      await rm(src);
      // Nothing written anywhere, no record, and fsck finds no orphan.
      expect(await tree()).toEqual(before);
      expect(withSource.length).toBe(before.length + 1);
      expect((await reg.run(`mlmodel list | where name = hostile_${i}`)).rows).toEqual([]);
      expect((await reg.run('mlmodel fsck grace=0')).rows).toEqual([]);

      // pull and deploy of a stored archive replaced by the hostile one
      const servedBefore = await readdir(join(home, 'serving', 'root_tf_victim')).catch(() => []);
      const original = { pkl: await readFile(pklArchive), tf: await readFile(tfArchive) };
      try {
        await writeFile(pklArchive, forImport.bytes);
        const pullTo = join(root, 'pulled', `p${i}`);
        const pull = await refused(reg.run(`mlmodel pull pkl_victim to=${pullTo}`));
        expect(['ARCHIVE_INVALID', 'CHECKSUM_MISMATCH'], pull.message).toContain(pull.code);
        if (pull.code === 'ARCHIVE_INVALID') expect([...c.reasons, 'manifest-mismatch']).toContain(pull.details['reason']);
        counts.refusals++;

        const tfCase = corpora().tf[i]!;
        await writeFile(tfArchive, tfCase.bytes);
        const deploy = await refused(reg.run('mlmodel deploy tf_victim'));
        expect(['ARCHIVE_INVALID', 'CHECKSUM_MISMATCH'], deploy.message).toContain(deploy.code);
        counts.refusals++;
      } finally {
        await writeFile(pklArchive, original.pkl);
        await writeFile(tfArchive, original.tf);
      }
      // Only the two planted archives were touched; the pull target never
      // appeared, no staging is left, and the refused deploy added no serving
      // version (whatever the harness test, in whichever order, deployed).
      expect(await tree()).toEqual(before);
      expect(await readdir(join(home, 'serving', 'root_tf_victim')).catch(() => [])).toEqual(servedBefore);
      expect(await readFile(join(victim, 'canary'), 'utf8')).toBe(CANARY);
      expect(await readdir(victim)).toEqual(['canary']);
      const status = await reg.run('serving status tf_victim');
      expect(status.rows.filter((r) => r[1] !== 'STOPPED').every((r) => r[1] === 'FAILED')).toBe(true);

      // The victims are whole again, and fsck has nothing to repair.
      expect((await reg.run('mlmodel verify pkl_victim')).rows[0]!.at(-1)).toBe('ok');
      expect((await reg.run('mlmodel verify tf_victim')).rows[0]!.at(-1)).toBe('ok');
      expect((await reg.run('mlmodel fsck grace=0')).rows).toEqual([]);

      // node-tar, for the record: whatever it warns about, we refused above.
      if ((await nodeTarWarnings(forImport.bytes)).length > 0) counts.nodeTarWarned++;
    }, 120_000);
  }
});
