import { createHash } from 'node:crypto';
import { ParseError } from '../../grammar/index.js';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { F } from '../../src/store/filter.js';
import { metadataStoreFor, objectStoreFor } from '../../src/store/open.js';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { loadConfig, type Env } from '../../src/config/index.js';
import type { ResultTable } from '../../src/result/table.js';
import { isMlmodelError } from '../../src/errors.js';
import { archives } from './archives.js';
import { parse } from '../../src/language.js';

/** One store pair to run the walk-through on. */
export interface Backend {
  /** Environment selecting the stores, the connector MIN_AI and the serving base. */
  env: Env;
  /** Puts a source archive where `OBJECTSTORAGE.MIN_AI:<key>` finds it. */
  putSource(key: string, body: Buffer): Promise<void>;
  /** Reads a file of the serving base (`root_mnist_v1/1/export/1/saved_model.pb`, `models.config`), or null. */
  readServed(path: string): Promise<Buffer | null>;
  /** Keys of the registry's own object store under a prefix. */
  listObjects(prefix: string): Promise<string[]>;
  /** Bytes behind an export's download_url (an HTTP GET, or a file read). */
  download(url: string): Promise<Buffer>;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const column = (t: ResultTable, name: string) => t.rows.map((r) => r[t.columns.findIndex((c) => c.name === name)]);

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isMlmodelError(e) || e instanceof ParseError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected the query to fail');
}

/**
 * The IRIS walk-through, end to end, then every error path and the
 * concurrency guarantees. The same suite runs on every store pair.
 */
export function registrySuite(setup: () => Promise<Backend>): void {
  let backend: Backend;
  let reg: Registry;
  const run = (q: string) => reg.run(q);

  // Each case runs on a registry of its own over fresh stores (every setup()
  // makes new ones), so what it sees (ids, lists, objects, fsck's findings)
  // is what it did itself, in whatever order the cases run. A case that needs
  // models imports them with the helpers below.
  beforeEach(async () => {
    backend = await setup();
    reg = await openRegistry({ config: loadConfig(backend.env) });
  });
  afterEach(async () => {
    await reg?.close();
  });

  /** One model of each type: name, type, source archive, the format and filename import infers. */
  const everyType = (): Array<[string, string, Buffer, string, string]> => [
    ['skl', 'sklearn', archives.sklearn(), 'pickle', 'model.pkl'],
    ['spk', 'spark', archives.spark(), 'spark', 'data/part-00000-abc.snappy.parquet'],
    ['rrr', 'r', archives.r(), 'rda', 'model.rda'],
    ['onx', 'onnx', archives.onnx(), 'onnx', 'model.onnx'],
    ['hhh', 'tf', archives.tfH5(), 'h5', 'model.h5'],
  ];
  /** Imports skl, spk, rrr, onx and hhh from src/<name>.tar. */
  const importEveryType = async () => {
    for (const [name, type, body] of everyType()) {
      await backend.putSource(`src/${name}.tar`, body);
      await run(`mlmodel import name=${name} type=${type} path=OBJECTSTORAGE.MIN_AI:src/${name}.tar`);
    }
  };
  /** Two sources of one tf model: v/m1.tar holds a Keras h5 file, v/m2.tar a SavedModel. */
  const putVersionSources = async () => {
    await backend.putSource('v/m1.tar', archives.tfH5());
    await backend.putSource('v/m2.tar', archives.tfSavedModel());
  };
  /** vv with version 1 from v/m1.tar (h5) and version 2, the latest, from v/m2.tar (SavedModel). */
  const importVv = async () => {
    await putVersionSources();
    await run('mlmodel import name=vv type=tf path=OBJECTSTORAGE.MIN_AI:v/m1.tar');
    await run('mlmodel import name=vv type=tf path=OBJECTSTORAGE.MIN_AI:v/m2.tar');
  };

  it('walks through the IRIS reference: import, list, summary, deploy, serving status, stop, export, delete', async () => {
    const saved = archives.tfSavedModel();
    await backend.putSource('USERS/root/mnist/model.tar', saved);
    await backend.putSource('USERS/root/clothes/model.tar', archives.tfH5());

    const imported = await run(
      "mlmodel import name=mnist_v1 type=tf category=classification algorithm=deep format=saved_model feature=x label=y parameter='{\"epochs\": 5}' train_cnt=55260 path=OBJECTSTORAGE.MIN_AI:USERS/root/mnist/model.tar",
    );
    expect(imported.columns.map((c) => c.name)).toEqual(['result', 'name', 'version', 'size', 'sha256']);
    expect(imported.rows).toEqual([['ok', 'mnist_v1', 1, saved.length, sha256(saved)]]);
    await run('mlmodel import name=tf_clothes type=tf category=classification algorithm=deep path=OBJECTSTORAGE.MIN_AI:USERS/root/clothes/model.tar');

    const list = await run('mlmodel list');
    expect(list.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'id:LONG', 'user:TEXT', 'name:TEXT', 'type:TEXT', 'category:TEXT', 'algorithm:TEXT', 'serving:TEXT', 'create:DATETIME', 'modified:DATETIME',
    ]);
    expect(list.rows.map((r) => r.slice(0, 7))).toEqual([
      [1, 'root', 'mnist_v1', 'tf', 'classification', 'deep', 'off'],
      [2, 'root', 'tf_clothes', 'tf', 'classification', 'deep', 'off'],
    ]);
    expect(list.rows[0]![7]).toBeInstanceOf(Date);

    const summary = await run('mlmodel summary mnist_v1');
    expect(column(summary, 'name')).toEqual([
      'id', 'user', 'name', 'filename', 'format', 'type', 'category', 'algorithm', 'feature', 'label', 'parameter', 'evaluation',
      'cross_validation', 'grid_info', 'train_cnt', 'elapsed', 'dictionary', 'cdate', 'mdate', 'serving', 'serving_name', 'state',
      'version', 'size', 'sha256', 'tags', 'description',
    ]);
    const value = (f: string) => summary.rows.find((r) => r[0] === f)?.[1];
    expect([value('filename'), value('format'), value('parameter'), value('train_cnt'), value('evaluation'), value('serving_name'), value('state')]).toEqual([
      'export/1/saved_model.pb', 'saved_model', '{"epochs":5}', '55260', '[]', 'root_mnist_v1', 'DONE',
    ]);
    expect(value('cdate')).toMatch(/^\d{14}$/);
    expect((await run('mlmodel summary mnist_v1 serving_name, id')).rows).toEqual([
      ['serving_name', 'root_mnist_v1'],
      ['id', '1'],
    ]);

    expect((await run("mlmodel deploy mnist_v1 label='unstable'")).rows).toEqual([['on', 1, 'root_mnist_v1']]);
    expect((await run("mlmodel deploy mnist_v1 label='stable'")).rows).toEqual([['on', 2, 'root_mnist_v1']]);
    // The SavedModel's own directory becomes the version directory, as TF Serving expects.
    expect(await backend.readServed('root_mnist_v1/2/saved_model.pb')).toEqual(Buffer.from('\x08\x01saved model graph'));
    expect(await backend.readServed('root_mnist_v1/2/variables/variables.index')).toEqual(Buffer.from('index'));
    expect(await backend.readServed('root_mnist_v1/2/export/1/saved_model.pb')).toBeNull();
    const config = (await backend.readServed('models.config'))!.toString();
    expect(config).toContain("name: 'root_mnist_v1'");
    expect(config).toMatch(/versions: 1\n\s+versions: 2/);
    expect(config).toContain("key: 'stable'\n      value: 2");
    expect(column(await run('mlmodel list | where name = mnist_v1'), 'serving')).toEqual(['on']);

    const status = await run('serving status mnist_v1');
    expect(status.columns.map((c) => c.name)).toEqual(['version', 'state', 'label', 'deployed_at', 'reason']);
    expect(status.rows.map((r) => r.slice(0, 3))).toEqual([
      [1, 'AVAILABLE', 'unstable'],
      [2, 'AVAILABLE', 'stable'],
    ]);

    expect(await failure(run('mlmodel delete mnist_v1'))).toEqual({
      code: 'CONFLICT',
      message: 'mnist_v1 is being served; stop it first (mlmodel stop mnist_v1)',
    });
    expect((await run('mlmodel stop mnist_v1')).rows).toEqual([['ok']]);
    expect(column(await run('serving status mnist_v1'), 'state')).toEqual(['STOPPED', 'STOPPED']);
    expect((await backend.readServed('models.config'))!.toString()).not.toContain('root_mnist_v1');

    const exported = await run('mlmodel export name=mnist_v1 path=OBJECTSTORAGE.MIN_AI:USERS/root/tf_mnist.tar');
    expect(exported.columns.map((c) => c.name)).toEqual(['result', 'download_url', 'expired time (sec)']);
    expect(exported.rows[0]![0]).toBe('ok');
    expect(exported.rows[0]![2]).toBe(3600);
    expect(await backend.download(String(exported.rows[0]![1]))).toEqual(saved);
    expect((await run('mlmodel export name=mnist_v1 path=OBJECTSTORAGE.MIN_AI:USERS/root/again.tar expires=60')).rows[0]![2]).toBe(60);

    const afterDelete = await run('mlmodel delete mnist_v1');
    expect(column(afterDelete, 'name')).toEqual(['tf_clothes']);
    expect(await backend.listObjects('models/')).toEqual([expect.stringMatching(/^models\/[0-9a-f-]{36}\/archive$/), expect.stringMatching(/^models\/[0-9a-f-]{36}\/manifest.json$/)]); // tf_clothes
  });

  it('imports every model type, plain or gzip, and infers the format', async () => {
    await importEveryType();
    for (const [name, type, , format, filename] of everyType()) {
      expect((await run(`mlmodel summary ${name} format, filename, type`)).rows.map((r) => r[1])).toEqual([format, filename, type]);
    }
    expect(column(await run('mlmodel list | where type in (sklearn, spark) | sort -name'), 'name')).toEqual(['spk', 'skl']);
  });

  it('makes a new version on re-import; list shows the latest, @N reads older ones', async () => {
    await putVersionSources();
    await run('mlmodel import name=versioned type=tf path=OBJECTSTORAGE.MIN_AI:v/m1.tar');
    expect((await run('mlmodel import name=versioned type=tf path=OBJECTSTORAGE.MIN_AI:v/m2.tar')).rows[0]![2]).toBe(2);
    expect((await run('mlmodel list | where name = versioned')).rows).toHaveLength(1);
    expect((await run('mlmodel summary versioned version, format')).rows).toEqual([
      ['version', '2'],
      ['format', 'saved_model'],
    ]);
    expect((await run('mlmodel summary versioned@1 version, format')).rows.map((r) => r[1])).toEqual(['1', 'h5']);
    expect(await failure(run('mlmodel summary versioned@3'))).toMatchObject({ code: 'MODEL_NOT_FOUND', message: 'versioned@3: versioned has versions 1 to 2' });
    expect(await failure(run('mlmodel import name=versioned type=onnx path=OBJECTSTORAGE.MIN_AI:v/m1.tar'))).toMatchObject({ code: 'CONFLICT' });
  });

  it('leaves no record and no object behind when an import fails', async () => {
    await putVersionSources();
    const before = await backend.listObjects('models/');
    const count = (await run('mlmodel list')).rows.length;
    await backend.putSource('bad/missing.tar', archives.tfMissingModel());
    await backend.putSource('bad/hostile.tar', archives.hostile());
    await backend.putSource('bad/notar.tar', Buffer.from('this is not a tar archive at all'.repeat(40)));
    expect(await failure(run('mlmodel import name=bad1 type=tf path=OBJECTSTORAGE.MIN_AI:bad/missing.tar'))).toMatchObject({
      code: 'ARCHIVE_INVALID',
      message: expect.stringMatching(/model\.h5 or saved_model\.pb/),
    });
    expect(await failure(run('mlmodel import name=bad2 type=tf path=OBJECTSTORAGE.MIN_AI:bad/hostile.tar'))).toMatchObject({
      code: 'ARCHIVE_INVALID',
      message: expect.stringContaining('..'),
    });
    expect(await failure(run('mlmodel import name=bad3 type=tf path=OBJECTSTORAGE.MIN_AI:bad/notar.tar'))).toMatchObject({ code: 'ARCHIVE_INVALID' });
    // An option's value is checked by its declared type when the query is parsed.
    expect(await failure(run('mlmodel import name=bad4 type=keras path=OBJECTSTORAGE.MIN_AI:bad/missing.tar'))).toMatchObject({
      code: 'PARSE_ERROR',
      message: expect.stringContaining('type=keras is not one of r, sklearn, spark, tf, onnx'),
    });
    expect(await failure(run('mlmodel import name=bad5 type=tf format=h5 path=OBJECTSTORAGE.MIN_AI:v/m2.tar'))).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('format=h5 does not match the archive, which holds a saved_model model'),
    });
    expect(await failure(run('mlmodel import name=bad6 type=tf path=OBJECTSTORAGE.MIN_AI:nothing/here.tar'))).toMatchObject({ code: 'OBJECT_NOT_FOUND' });
    expect(await failure(run('mlmodel import name=bad7 type=tf path=OBJECTSTORAGE.NOPE:x.tar'))).toMatchObject({ code: 'CONNECTOR_UNKNOWN' });
    expect(await failure(run('mlmodel import name=../x type=tf path=OBJECTSTORAGE.MIN_AI:v/m1.tar'))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await failure(run('mlmodel import name=x type=tf'))).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'mlmodel import needs path=…' });
    expect(await failure(run('mlmodel import name=x type=tf path=/tmp/x.tar colour=red'))).toMatchObject({
      code: 'PARSE_ERROR',
      message: expect.stringMatching(/^mlmodel import has no option colour\. (Did you mean \w+\? )?Its options are name, type, path/),
    });
    expect((await run('mlmodel list')).rows).toHaveLength(count);
    expect(await backend.listObjects('models/')).toEqual(before);
  });

  it('renames (metadata only) and refuses a clash', async () => {
    await importEveryType();
    const after = await run('mlmodel rename skl as sklearn_lr');
    expect(column(after, 'name')).toContain('sklearn_lr');
    expect(column(after, 'name')).not.toContain('skl');
    expect((await run('mlmodel summary sklearn_lr format')).rows).toEqual([['format', 'pickle']]);
    expect(await failure(run('mlmodel rename sklearn_lr onx'))).toMatchObject({ code: 'CONFLICT' });
    expect(await failure(run('mlmodel rename nope as x'))).toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });

  it('refuses to deploy a model that is neither tf nor onnx, an onnx file that is no ONNX graph, and to stop one that is not served', async () => {
    await importEveryType();
    expect(await failure(run('mlmodel deploy spk'))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('spk is a spark model') });
    // archives.onnx() holds bytes named model.onnx, not a graph: the version is FAILED and its directory gone.
    expect(await failure(run('mlmodel deploy onx'))).toMatchObject({ code: 'ARCHIVE_INVALID', message: expect.stringContaining('not a readable ONNX model') });
    expect((await run('serving status onx')).rows.map((r) => r[1])).toEqual(['FAILED']);
    expect(await backend.readServed('root_onx/1/model.onnx')).toBeNull();
    expect(await backend.readServed('root_onx/config.pbtxt')).toBeNull();
    expect(await failure(run('mlmodel deploy hhh'))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('hhh holds a Keras h5 file') });
    expect(await failure(run('mlmodel stop onx'))).toMatchObject({ code: 'CONFLICT', message: 'onx is not being served' });
  });

  it('lists versions with tags and aliases; tags filter the list; aliases move and resolve', async () => {
    await importVv();
    const createdAtImport = (await run('mlmodel versions vv | fields version, created')).rows;
    expect((await run('mlmodel tag vv stable, prod')).rows).toEqual([['vv', 2, 'stable,prod']]);
    expect((await run('mlmodel tag vv@1 old')).rows).toEqual([['vv', 1, 'old']]);
    expect(column(await run('mlmodel list | where tags = stable'), 'name')).toEqual(['vv']);
    expect((await run('mlmodel summary vv tags')).rows).toEqual([['tags', 'stable,prod']]);
    expect((await run('mlmodel untag vv prod')).rows).toEqual([['vv', 2, 'stable']]);
    expect(await failure(run('mlmodel untag vv nope'))).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'vv@2 has no tag nope' });

    expect((await run('mlmodel alias vv@1 champion')).rows).toEqual([['ok', 'vv', 'champion', 1]]);
    expect((await run('mlmodel summary vv@champion version')).rows).toEqual([['version', '1']]);
    await run('mlmodel alias vv@2 champion');
    expect((await run('mlmodel summary vv@champion version')).rows).toEqual([['version', '2']]);
    const versions = await run('mlmodel versions vv');
    expect(versions.columns.map((c) => c.name)).toEqual(['version', 'size', 'sha256', 'created', 'user', 'tags', 'aliases', 'latest']);
    expect(versions.rows.map((r) => [r[0], r[4], r[5], r[6], r[7]])).toEqual([
      [1, 'root', 'old', '', false],
      [2, 'root', 'stable', 'champion', true],
    ]);
    // created is when each version was stored: tags, aliases, a rename and a deploy leave it.
    await run('mlmodel rename vv as vv_renamed');
    await run('mlmodel rename vv_renamed as vv');
    expect((await run('mlmodel versions vv | fields version, created')).rows).toEqual(createdAtImport);
    expect((createdAtImport[1]![1] as Date).getTime()).toBeGreaterThanOrEqual((createdAtImport[0]![1] as Date).getTime());
    // Concurrent moves: the alias ends on exactly one version, one of those asked for.
    await Promise.all(Array.from({ length: 8 }, (_, i) => run(`mlmodel alias vv@${(i % 2) + 1} racer`)));
    const racer = await run('mlmodel versions vv | fields version, aliases');
    expect(racer.rows.filter((r) => String(r[1]).split(',').includes('racer'))).toHaveLength(1);
    expect((await run('mlmodel unalias vv champion')).rows).toEqual([['ok']]);
    expect(await failure(run('mlmodel summary vv@champion'))).toMatchObject({ code: 'MODEL_NOT_FOUND', message: 'vv has no alias champion' });
    expect(await failure(run('mlmodel alias vv champion'))).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('lists the files of an archive, pulls them into a directory, and verifies the stored archive', async () => {
    await importVv();
    const files = await run("mlmodel files vv include='variables*' sortby=size");
    expect(files.columns.map((c) => c.name)).toEqual(['path', 'size', 'modified', 'sha256']);
    expect(files.rows.map((r) => [r[0], r[1]])).toEqual([
      ['export/1/variables/variables.data-00000-of-00001', 4096],
      ['export/1/variables/variables.index', 5],
    ]);
    expect((await run('mlmodel files vv@1')).rows.map((r) => r[0])).toEqual(['model.h5']);

    const dir = await mkdtemp(join(tmpdir(), 'mlmodel-pull-'));
    const pulled = await run(`mlmodel pull vv to=${dir}/out`);
    expect(pulled.rows).toHaveLength(3);
    expect(await readFile(join(dir, 'out/export/1/saved_model.pb'))).toEqual(Buffer.from('\x08\x01saved model graph'));
    expect(await failure(run(`mlmodel pull vv to=${dir}/out`))).toMatchObject({ code: 'CONFLICT' });
    await writeFile(join(dir, 'out/export/1/saved_model.pb'), 'changed');
    await run(`mlmodel pull vv to=${dir}/out overwrite=true`);
    expect(await readFile(join(dir, 'out/export/1/saved_model.pb'))).toEqual(Buffer.from('\x08\x01saved model graph'));
    const some = await run(`mlmodel pull vv to=${dir}/some include='*.pb'`);
    expect(some.rows.map((r) => r[0])).toEqual([`${dir}/some/export/1/saved_model.pb`]);
    expect(await readdir(join(dir, 'some/export/1'))).toEqual(['saved_model.pb']);
    expect(await failure(run('mlmodel pull vv to=OBJECTSTORAGE.MIN_AI:x'))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await failure(run('mlmodel pull vv to=relative/dir'))).toMatchObject({ code: 'INVALID_ARGUMENT' });

    expect((await run('mlmodel verify vv')).rows).toEqual([['vv', 2, 3, archives.tfSavedModel().length, sha256(archives.tfSavedModel()), 'ok']]);
  });

  it('fsck finds damage, orphans and interrupted deletes, and repairs what is safe', async () => {
    await importVv();
    await importEveryType();
    expect((await run('mlmodel fsck quick=true')).rows).toEqual([]);
    const config = loadConfig(backend.env);
    const objects = await objectStoreFor(config);
    const meta = await metadataStoreFor(config);
    await meta.init();
    try {
      const [v1] = await meta.findModels({ filter: F.and(F.eq('name', 'vv'), F.eq('version', 1)) });
      await objects.put(v1!.object_key, Readable.from([Buffer.from('not the archive')]));
      expect(await failure(run('mlmodel verify vv@1'))).toMatchObject({ code: 'CHECKSUM_MISMATCH', message: expect.stringContaining('vv@1 is damaged') });

      const orphan = 'models/00000000-0000-4000-8000-000000000000/archive';
      await objects.put(orphan, Readable.from([Buffer.from('left by a crashed import')]));
      const [onx] = await meta.findModels({ filter: F.eq('name', 'onx') });
      await meta.updateModel(onx!.uid, { state: 'DELETING' });

      const found = await run('mlmodel fsck grace=0');
      expect(found.rows).toEqual(
        expect.arrayContaining([
          ['interrupted delete', 'root/onx', 'the model is being deleted (out of sight; 1 version(s) left)', 'needs repair=true'],
          ['archive', 'root/vv@1', expect.stringContaining('no longer passes inspection'), expect.stringContaining('cannot repair')],
          ['orphan object', orphan, 'no record points to it', 'needs repair=true'],
        ]),
      );
      const repaired = await run('mlmodel fsck repair=true grace=0 quick=true');
      expect(repaired.rows).toEqual(
        expect.arrayContaining([
          ['interrupted delete', 'root/onx', 'the model is being deleted (out of sight; 1 version(s) left)', 'repaired'],
          ['orphan object', orphan, 'no record points to it', 'repaired'],
        ]),
      );
      expect(await objects.stat(orphan)).toBeNull();
      expect(await backend.listObjects(`models/${onx!.uid}/`)).toEqual([]);
      // The name is free again once its only version is gone.
      await run('mlmodel import name=onx type=onnx path=OBJECTSTORAGE.MIN_AI:src/onx.tar');
      expect((await run('mlmodel summary onx version')).rows).toEqual([['version', '1']]);
      // What cannot be repaired is still reported: only the damaged archive is left.
      expect((await run('mlmodel fsck grace=0 quick=true')).rows).toEqual([
        ['archive', 'root/vv@1', 'archive size 15, recorded 4096', 'cannot repair: restore the archive or delete the version'],
      ]);
    } finally {
      await meta.close();
      await objects.close();
    }
  });

  it('imports a batch in one commit with the outcomes of one-by-one imports, and stops or goes on after a failure', async () => {
    await backend.putSource('batch/h5.tar', archives.tfH5());
    await backend.putSource('batch/onnx.tar', archives.onnx());
    await backend.putSource('batch/bad.tar', archives.tfMissingModel());
    const before = await backend.listObjects('models/');
    const q = (name: string, type: string, src: string) => parse(`mlmodel import name=${name} type=${type} category=batch path=OBJECTSTORAGE.MIN_AI:batch/${src}.tar`);
    const ok = await reg.importBatch([q('b1', 'tf', 'h5'), q('b2', 'onnx', 'onnx'), q('b1', 'tf', 'h5'), q('b3', 'tf', 'h5')], { concurrency: 3 });
    expect(ok.map((o) => ('table' in o ? o.table.rows[0]!.slice(0, 3) : o))).toEqual([
      ['ok', 'b1', 1],
      ['ok', 'b2', 1],
      ['ok', 'b1', 2],
      ['ok', 'b3', 1],
    ]);
    expect((await run('mlmodel list | where category = batch | sort name | fields name')).rows).toEqual([['b1'], ['b2'], ['b3']]);
    expect((await run('mlmodel summary b1 version')).rows).toEqual([['version', '2']]);
    const afterOk = await backend.listObjects('models/');
    expect(afterOk.length - before.length).toBe(8);

    // A bad archive, then a type clash found only when committing (b4 is tf in this same batch).
    const batch = [q('b4', 'tf', 'h5'), q('b5', 'tf', 'bad'), q('b4', 'onnx', 'onnx'), q('b6', 'tf', 'h5')];
    const stopped = await reg.importBatch(batch, { stopAtError: true });
    expect('table' in stopped[0]!).toBe(true);
    expect(stopped[1]).toMatchObject({ error: { code: 'ARCHIVE_INVALID' } });
    expect(stopped.slice(2)).toEqual([{ skipped: true }, { skipped: true }]);
    expect((await run('mlmodel list | where category = batch')).rows).toHaveLength(4);
    expect((await backend.listObjects('models/')).length - afterOk.length).toBe(2);

    const goOn = await reg.importBatch([q('b7', 'tf', 'h5'), q('b5', 'tf', 'bad'), q('b7', 'onnx', 'onnx'), q('b6', 'tf', 'h5')], { stopAtError: false });
    expect(goOn.map((o) => ('table' in o ? 'ok' : 'error' in o ? (o.error as { code: string }).code : 'skipped'))).toEqual([
      'ok',
      'ARCHIVE_INVALID',
      'CONFLICT',
      'ok',
    ]);
    expect((await run('mlmodel list | where category = batch | sort name | fields name')).rows).toEqual([['b1'], ['b2'], ['b3'], ['b4'], ['b6'], ['b7']]);
    // Only the registered imports left objects: 2 each for b4, b7, b6.
    expect((await backend.listObjects('models/')).length - afterOk.length).toBe(6);
    await expect(reg.importBatch([parse('mlmodel list')])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('gives 16 parallel deploys of one model versions 1..16, and 16 parallel imports 16 distinct versions', async () => {
    await backend.putSource('c/m.tar', archives.tfSavedModel());
    await run('mlmodel import name=busy type=tf path=OBJECTSTORAGE.MIN_AI:c/m.tar');
    const deploys = await Promise.all(Array.from({ length: 16 }, (_, i) => run(`mlmodel deploy busy label=l${i}`)));
    expect(deploys.map((d) => d.rows[0]![1]).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const config = (await backend.readServed('models.config'))!.toString();
    for (let v = 1; v <= 16; v++) expect(config).toContain(`versions: ${v}\n`);

    const imports = await Promise.all(Array.from({ length: 16 }, () => run('mlmodel import name=crowd type=tf path=OBJECTSTORAGE.MIN_AI:c/m.tar')));
    expect(imports.map((t) => t.rows[0]![2]).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect((await run('mlmodel list | where name = crowd')).rows).toHaveLength(1);
    expect((await run('mlmodel summary crowd version')).rows).toEqual([['version', '16']]);
  });
}

export async function readLocal(path: string): Promise<Buffer | null> {
  return readFile(path).catch(() => null);
}
