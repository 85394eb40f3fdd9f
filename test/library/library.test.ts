import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archives } from '../integration/archives.js';

/**
 * The package as a library, through its published entry points (the built
 * dist/ reached by the package's own name, as a consumer would): what each
 * entry loads, the documented example, its types, and the Registry API.
 */
const ROOT = new URL('../../', import.meta.url).pathname;
const WHAT_LOADS = join(ROOT, 'test/library/what-loads.mjs');

function loads(specifier: string): { exports: string[]; loaded: string[] } {
  return JSON.parse(execFileSync(process.execPath, [WHAT_LOADS, specifier], { cwd: ROOT, encoding: 'utf8' }));
}

const HEAVY = /node_modules\/(mongodb|better-sqlite3|minio|mingo|ink|react|yaml|cli-table3|tar)\/|\/dist\/console\//;

describe('entry points', () => {
  it('mlmodel/grammar loads the grammar, chevrotain and the command modules only: no database driver, YAML, Ink, React or console', () => {
    const { exports, loaded } = loads('mlmodel/grammar');
    expect(exports).toEqual(expect.arrayContaining(['parse', 'ParseError', 'print', 'splitScript', 'createLanguage', 'language']));
    expect(loaded.length).toBeGreaterThan(5);
    // A command's syntax lives in its module with its executor, so the language loads src/; the drivers wait for a store.
    const outside = loaded.filter((u) => !u.startsWith('node:') && !/\/dist\/(grammar|src)\//.test(u) && !/node_modules\/(@chevrotain\/[^/]+|chevrotain|lodash-es)\//.test(u));
    expect(outside).toEqual([]);
    expect(loaded.filter((u) => /\/dist\/src\/store\/(sqlite|mongo|minio)\.js$/.test(u))).toEqual([]);
    expect(loaded.filter((u) => HEAVY.test(u))).toEqual([]);
  });

  it('mlmodel loads the engine (the hook sees it), but nothing of the console, Ink or React', () => {
    const { exports, loaded } = loads('mlmodel');
    expect(exports).toEqual(expect.arrayContaining(['openRegistry', 'parse', 'MlmodelError', 'isMlmodelError', 'loadConfig']));
    expect(loaded.some((u) => /\/dist\/src\/engine\/registry\.js$/.test(u))).toBe(true);
    // The YAML parser waits until there is a config file to read.
    expect(loaded.some((u) => /node_modules\/yaml\//.test(u))).toBe(false);
    expect(loaded.filter((u) => /\/dist\/console\/|node_modules\/(ink|react)\//.test(u))).toEqual([]);
  });

  it('mlmodel/render renders a ResultTable to escaped HTML without the engine', () => {
    const { exports, loaded } = loads('mlmodel/render');
    expect(exports).toEqual(expect.arrayContaining(['render', 'renderHtml', 'renderJson']));
    expect(loaded.filter((u) => /\/dist\/src\/(engine|store|executor)\/|node_modules\/(mongodb|better-sqlite3|minio)\//.test(u))).toEqual([]);
  });
});

describe('the documented example', () => {
  const example = join(ROOT, 'examples/quickstart.mjs');

  it('runs and prints what docs/library.md says it prints', () => {
    const r = spawnSync(process.execPath, [example], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, TZ: 'UTC' } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        'parsed: list then where, sort, head',
        'parse error at line 1, column 9: did you mean list?',
        'import: ok churn version 1 (progress reported)',
        'line 3: user:TEXT name:TEXT type:TEXT create:DATETIME | 1 row(s) | DATETIME cells are Dates',
        'line 4: name:TEXT value:TEXT | 2 row(s)',
        'error: MODEL_NOT_FOUND: no model called no_such_model',
        '<tr><td>churn</td><td>sklearn</td></tr>',
        '',
      ].join('\n'),
    );
    const doc = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
    expect(doc).toContain(r.stdout.trim());
  });

  it('is the very code shown in docs/library.md', () => {
    const doc = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
    const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toContain(readFileSync(example, 'utf8'));
  });

  it('type-checks against the package’s published declarations', () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'examples')], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('Registry API', () => {
  // Imported through the package name, i.e. the built dist/, as a consumer would.
  let mlmodel: typeof import('../../src/index.js');
  let registry: import('../../src/index.js').Registry;
  let archive: string;
  beforeAll(async () => {
    mlmodel = (await import('mlmodel' as string)) as typeof import('../../src/index.js');
    const root = mkdtempSync(join(tmpdir(), 'mlmodel-library-'));
    archive = join(root, 'clf.tar.gz');
    writeFileSync(archive, archives.sklearn());
    registry = await mlmodel.openRegistry({ env: { HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root' } });
  });
  afterAll(() => registry.close());

  it('run() resolves to a typed ResultTable and reports progress', async () => {
    const seen: number[] = [];
    const t = await registry.run(`mlmodel import name=m1 type=sklearn path=${archive}`, { onProgress: (p) => seen.push(p.done) });
    expect(t.columns.map((c) => c.type)).toEqual(['TEXT', 'TEXT', 'LONG', 'LONG', 'TEXT']);
    expect(t.rows[0]!.slice(0, 3)).toEqual(['ok', 'm1', 1]);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toBe(t.rows[0]![3]);
    const list = await registry.run('mlmodel list | fields name, modified');
    expect(list.rows[0]![1]).toBeInstanceOf(Date);
  });

  it('run(text, { user }) acts as that user for one query', async () => {
    await registry.run(`mlmodel import name=theirs type=sklearn path=${archive}`, { user: 'erin' });
    const t = await registry.run("mlmodel list | where name = 'theirs' | fields user");
    expect(t.rows).toEqual([['erin']]);
    await expect(registry.run('mlmodel delete theirs')).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: 'no model of yours called theirs' });
    await expect(registry.run('mlmodel delete theirs', { user: 'erin' })).resolves.toBeDefined();
  });

  it('runScript() yields one result per statement with its line, then stops at the first failure', async () => {
    // A model of this test's own, so the rows it counts do not depend on what other tests imported.
    await registry.run(`mlmodel import name=sc type=sklearn path=${archive}`);
    const got: [number, number][] = [];
    const script = '# header\nmlmodel list | where name = sc | fields name\n\nmlmodel summary sc \\\n  type\nmlmodel summary nope\nmlmodel list\n';
    const iterate = async () => {
      for await (const r of registry.runScript(script)) got.push([r.statement.line, r.rows.length]);
    };
    await expect(iterate()).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect(got).toEqual([
      [2, 1],
      [4, 1],
    ]);
    // A parse error surfaces as a ParseError with its position inside the statement.
    const bad = registry.runScript('mlmodel list\nmlmodel list | head x\n');
    expect((await bad.next()).value?.statement.line).toBe(1);
    await expect(bad.next()).rejects.toBeInstanceOf(mlmodel.ParseError);
  });

  it('a signal aborted before the query starts cancels it', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(registry.run('mlmodel list', { signal: ac.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
