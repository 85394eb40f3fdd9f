/**
 * Tab where only a store can answer: keys after `path=OBJECTSTORAGE.X:`,
 * local paths after `path=/`, versions and aliases after `NAME@` — on a
 * real embedded registry with a local-directory connector (MinIO's keys:
 * test/integration/complete-minio.test.ts), through the completion function
 * and through the REPL itself.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createElement } from 'react';
import { cleanup, render } from 'ink-testing-library';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReplApp } from '../../../console/repl/app.js';
import { completeWithLookups, type Catalog, type Completed } from '../../../console/repl/complete.js';
import { ReplController } from '../../../console/repl/controller.js';
import { registryLookups } from '../../../console/repl/lookups.js';
import { registryBackend } from '../../../console/repl/session.js';
import { loadConfig } from '../../../src/config/index.js';
import { openRegistry, type Registry } from '../../../src/engine/registry.js';
import { parse } from '../../../src/language.js';
import { DirectoryObjectStore } from '../../../src/store/directory.js';
import { file, tar } from '../../archive/tar-writer.js';

let root: string;
let registry: Registry;
let catalog: Catalog;
let hang: Server;
const sockets = new Set<Socket>();

/** A wait no lookup here comes near unless it hangs: the suite shares the machine with others. */
const PATIENT_MS = 30_000;

/** What Tab leaves at the end of `text` (the cursor there), or null when the grammar answers alone. */
async function tab(text: string, cat: Catalog = catalog, timeoutMs = PATIENT_MS): Promise<Completed | null> {
  const asked = completeWithLookups(text, text.length, cat, timeoutMs);
  return asked === null ? null : await asked;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-complete-lookups-'));
  const data = join(root, 'data');
  const store = new DirectoryObjectStore({ root: data });
  await store.init();
  const archive = tar(file('saved_model.pb', 'graph'));
  for (const key of ['USERS/root/model.tar', 'USERS/root/mnist_v1.tar', 'USERS/root/archive/old.tar', 'USERS/other/x.tar', 'my model.tar']) {
    await store.put(key, Readable.from([archive]));
  }
  hang = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  registry = await openRegistry({
    config: loadConfig({
      HOME: root,
      MLMODEL_HOME: join(root, 'home'),
      MLMODEL_USER: 'root',
      MLMODEL_CONNECTOR_DATA: data,
      MLMODEL_CONNECTOR_GONE: join(root, 'no-such-directory'),
      MLMODEL_CONNECTOR_SLOW: `http://key:secretsecret@127.0.0.1:${(hang.address() as { port: number }).port}/bucket`,
    }),
  });
  await registry.run('mlmodel import name=m type=tf path=OBJECTSTORAGE.DATA:USERS/root/model.tar');
  await registry.run('mlmodel import name=m type=tf path=OBJECTSTORAGE.DATA:USERS/root/mnist_v1.tar');
  await registry.run('mlmodel alias m@1 champion');
  catalog = await registryBackend(registry).catalog();
});

afterAll(async () => {
  await registry?.close();
  for (const s of sockets) s.destroy();
  await new Promise((r) => hang.close(r));
  await rm(root, { recursive: true, force: true });
});

afterEach(() => cleanup());

describe('completing connector keys', () => {
  const imp = 'mlmodel import name=x type=tf path=';

  it('walks the keys level by level through the same listing as mlmodel objects', async () => {
    // One level below the connector: glued on, no space, so the next Tab goes deeper.
    expect(await tab(`${imp}OBJECTSTORAGE.DATA:U`)).toEqual({ text: `${imp}OBJECTSTORAGE.DATA:USERS/`, cursor: imp.length + 25, shown: [] });
    expect((await tab(`${imp}OBJECTSTORAGE.DATA:USERS/`))!.shown).toEqual(['OBJECTSTORAGE.DATA:USERS/other/', 'OBJECTSTORAGE.DATA:USERS/root/']);
    expect((await tab(`${imp}OBJECTSTORAGE.DATA:USERS/r`))!.text).toBe(`${imp}OBJECTSTORAGE.DATA:USERS/root/`);
    expect((await tab(`${imp}OBJECTSTORAGE.DATA:USERS/root/`))!.shown).toEqual([
      'OBJECTSTORAGE.DATA:USERS/root/archive/',
      'OBJECTSTORAGE.DATA:USERS/root/mnist_v1.tar',
      'OBJECTSTORAGE.DATA:USERS/root/model.tar',
    ]);
    // An object is a whole value: a space follows it, and the line runs as it stands.
    const done = (await tab(`${imp}OBJECTSTORAGE.DATA:USERS/root/mo`))!;
    expect(done.text).toBe(`${imp}OBJECTSTORAGE.DATA:USERS/root/model.tar `);
    expect((await registry.run(done.text)).rows[0]![0]).toBe('ok');
  });

  it('keeps the connector name as typed, and completes for every command with a path option', async () => {
    expect((await tab(`${imp}OBJECTSTORAGE.data:USERS/o`))!.text).toBe(`${imp}OBJECTSTORAGE.data:USERS/other/`);
    expect((await tab('mlmodel objects path=OBJECTSTORAGE.DATA:US'))!.text).toBe('mlmodel objects path=OBJECTSTORAGE.DATA:USERS/');
    expect((await tab('mlmodel bundle m to=OBJECTSTORAGE.DATA:US'))!.text).toBe('mlmodel bundle m to=OBJECTSTORAGE.DATA:USERS/');
    expect((await tab('mlmodel export name=m path=OBJECTSTORAGE.DATA:USERS/root/a'))!.text).toBe(
      'mlmodel export name=m path=OBJECTSTORAGE.DATA:USERS/root/archive/',
    );
  });

  it('quotes a key a bare word cannot hold, so the line still parses', async () => {
    const done = (await tab(`${imp}OBJECTSTORAGE.DATA:my`))!;
    expect(done.text).toBe(`${imp}'OBJECTSTORAGE.DATA:my model.tar' `);
    expect(parse(done.text).command).toMatchObject({ kind: 'import', options: expect.arrayContaining([{ key: 'path', value: 'OBJECTSTORAGE.DATA:my model.tar' }]) });
  });

  it('leaves the word alone for a missing bucket, an unknown connector, a hostile prefix and a store that never answers', async () => {
    for (const text of [`${imp}OBJECTSTORAGE.GONE:`, `${imp}OBJECTSTORAGE.NOPE:`, `${imp}OBJECTSTORAGE.DATA:../`, `${imp}OBJECTSTORAGE.DATA:a//`]) {
      expect(await tab(text), text).toEqual({ text, cursor: text.length, shown: [] });
    }
    const slow = `${imp}OBJECTSTORAGE.SLOW:`;
    const started = Date.now();
    expect(await tab(slow, catalog, 300)).toEqual({ text: slow, cursor: slow.length, shown: [] });
    // A generous bound: the store never answers, the timeout is what ends the wait.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('is the grammar alone before the connector name is whole, after a pipe, and without lookups', async () => {
    expect(await tab(`${imp}OBJECTSTORAGE.DA`)).toBeNull();
    expect(await tab('mlmodel objects path=OBJECTSTORAGE.DATA: | where key = OBJECTSTORAGE.DATA:')).toBeNull();
    expect(await tab(`${imp}OBJECTSTORAGE.DATA:`, { ...catalog, lookups: undefined })).toBeNull();
  });
});

describe('completing local paths', () => {
  let confined: Registry;
  let confinedCatalog: Catalog;
  beforeAll(async () => {
    await mkdir(join(root, 'inbox', 'models'), { recursive: true });
    await mkdir(join(root, 'private'), { recursive: true });
    await writeFile(join(root, 'inbox', 'models', 'a.tar'), 'x');
    await writeFile(join(root, 'private', 'secret.tar'), 'x');
    await symlink(join(root, 'private'), join(root, 'inbox', 'escape'));
    const config = join(root, 'confined.yaml');
    await writeFile(config, `http:\n  local_roots: [${join(root, 'inbox')}]\n`);
    confined = await openRegistry({ config: loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home2'), MLMODEL_CONFIG: config }) });
    confinedCatalog = await registryBackend(confined).catalog();
  });
  afterAll(async () => confined?.close());

  const imp = 'mlmodel import name=x type=tf path=';

  it('lists directories and files under an absolute path, FILE: too', async () => {
    expect((await tab(`${imp}${root}/pri`))!.text).toBe(`${imp}${root}/private/`);
    expect((await tab(`${imp}${root}/private/`))!.text).toBe(`${imp}${root}/private/secret.tar `);
    expect((await tab(`${imp}FILE:${root}/inbox/m`))!.text).toBe(`${imp}FILE:${root}/inbox/models/`);
  });

  it('stays inside the configured local roots: the roots from above, what is in them, nothing outside or through a link', async () => {
    const inbox = `${join(root, 'inbox')}/`;
    expect((await tab(`${imp}${root}/`, confinedCatalog))!.text).toBe(`${imp}${inbox}`);
    expect((await tab(`${imp}${inbox}m`, confinedCatalog))!.text).toBe(`${imp}${inbox}models/`);
    expect((await tab(`${imp}${inbox}models/`, confinedCatalog))!.text).toBe(`${imp}${inbox}models/a.tar `);
    for (const text of [`${imp}${root}/private/`, `${imp}${inbox}escape/`, `${imp}/etc/`]) {
      expect(await tab(text, confinedCatalog), text).toEqual({ text, cursor: text.length, shown: [] });
    }
    // A link inside a root is no entry of it either.
    expect((await tab(`${imp}${inbox}`, confinedCatalog))!.text).toBe(`${imp}${inbox}models/`);
  });
});

describe('completing versions and aliases', () => {
  it("offers a model's versions, newest first, and its aliases after NAME@", async () => {
    expect((await tab('mlmodel summary m@'))!.shown).toEqual(['m@2', 'm@1', 'm@champion']);
    expect((await tab('mlmodel summary m@c'))!.text).toBe('mlmodel summary m@champion ');
    expect((await tab('mlmodel export name=m@ch'))!.text).toBe('mlmodel export name=m@champion ');
    expect((await tab('mlmodel files m@2'))!.shown).toEqual([]);
    const none = 'mlmodel summary nosuchmodel@';
    expect(await tab(none)).toEqual({ text: none, cursor: none.length, shown: [] });
    // Without '@' a model name completes from the catalog, at once.
    expect(await tab('mlmodel summary m')).toBeNull();
  });
});

describe('the REPL', () => {
  async function until(test: () => boolean, what: string, ms = PATIENT_MS): Promise<void> {
    const deadline = Date.now() + ms;
    while (!test()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  function repl() {
    const real = registryBackend(registry);
    const lookups = registryLookups(registry, { timeoutMs: PATIENT_MS });
    let answered = 0;
    // The real backend, with lookups that wait as long as a loaded machine may need, counted as they answer.
    const counted = {
      ...lookups,
      locations: (prefix: string, signal: AbortSignal) => lookups.locations(prefix, signal).finally(() => answered++),
    };
    const backend = { ...real, catalog: async () => ({ ...(await real.catalog()), lookups: counted }) };
    const controller = new ReplController({ backend, history: { entries: [], add: () => undefined }, width: 120 });
    const app = render(createElement(ReplApp, { controller, color: false }));
    return { controller, frame: () => app.lastFrame() ?? '', answered: () => answered };
  }

  it('completes a key and a version on Tab, and shows the choices', async () => {
    const { controller, frame } = repl();
    await controller.refreshCatalog();
    controller.input('mlmodel summary m@c\t');
    await until(() => controller.snapshot.editor.text === 'mlmodel summary m@champion ', 'the alias');
    controller.input('\x15');
    await until(() => controller.snapshot.editor.text === '', 'the line cleared');
    controller.input('mlmodel objects path=OBJECTSTORAGE.DATA:USERS/\t');
    await until(() => frame().includes('OBJECTSTORAGE.DATA:USERS/other/') && frame().includes('OBJECTSTORAGE.DATA:USERS/root/'), 'the choices');
  });

  it('lets what is typed after a Tab win over a store that answers later', async () => {
    const { controller, answered } = repl();
    await controller.refreshCatalog();
    controller.input('mlmodel objects path=OBJECTSTORAGE.DATA:US\tZ');
    await until(() => answered() === 1, 'the store to answer');
    await new Promise((r) => setTimeout(r, 50));
    expect(controller.snapshot.editor.text).toBe('mlmodel objects path=OBJECTSTORAGE.DATA:USZ');
    // The same Tab with nothing typed after it takes the answer.
    controller.input('\x7f\t');
    await until(() => controller.snapshot.editor.text === 'mlmodel objects path=OBJECTSTORAGE.DATA:USERS/', 'the completed level');
  });
});
