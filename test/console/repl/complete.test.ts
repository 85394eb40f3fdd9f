import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCompletion, commonPrefix, complete, type Catalog } from '../../../console/repl/complete.js';
import { registryBackend } from '../../../console/repl/session.js';
import { COMMANDS } from '../../../src/commands/index.js';
import { printModelRef } from '../../../grammar/index.js';
import { openRegistry, type Registry } from '../../../src/engine/registry.js';
import { isMlmodelError } from '../../../src/errors.js';

const catalog: Catalog = {
  models: ['mnist_v1', 'mnist_v2', 'iris', '한국어모델'],
  fields: ['id', 'name', 'type', 'category', 'modified', 'create'],
  summaryFields: ['id', 'name', 'format', 'sha256'],
  modelTypes: ['r', 'sklearn', 'spark', 'tf', 'onnx'],
  connectors: ['MINIO', 'S3'],
};

const at = (text: string) => complete(text, text.length, catalog).candidates;
const tab = (text: string) => applyCompletion(text, text.length, catalog);

describe('completion from the grammar', () => {
  it('offers commands, actions and stages where the grammar takes them', () => {
    expect(at('')).toEqual(['mlmodel', 'serving', 'help']);
    expect(at('he')).toEqual(['help']);
    expect(at('help s')).toEqual(['summary', 'stop', 'sync', 'status', 'serving', 'signature', 'sort']);
    expect(at('ml')).toEqual(['mlmodel']);
    expect(at('mlmodel ')).toEqual(expect.arrayContaining(['list', 'summary', 'delete', 'rename', 'import', 'export', 'deploy', 'stop']));
    expect(at('mlmodel su')).toEqual(['summary']);
    expect(at('MLMODEL LI')).toEqual(['list']);
    expect(at('mlmodel list | ')).toEqual(['where', 'fields', 'sort', 'head']);
    expect(at('serving ')).toEqual(['status']);
    expect(at('mlmodel list | where type = tf ')).toEqual(['and', 'or']);
  });

  it('offers model names where a model is expected', () => {
    expect(at('mlmodel summary ')).toEqual(['iris', 'mnist_v1', 'mnist_v2', '한국어모델']);
    expect(at('mlmodel delete mn')).toEqual(['mnist_v1', 'mnist_v2']);
    expect(at('mlmodel deploy 한')).toEqual(['한국어모델']);
    expect(at('serving status i')).toEqual(['iris']);
    expect(at('mlmodel list | where name = mn')).toEqual(['mnist_v1', 'mnist_v2']);
  });

  it("offers the command's own option keys, not those already given", () => {
    expect(at('mlmodel import ')).toEqual(expect.arrayContaining(['name', 'type', 'path', 'category', 'algorithm', 'format']));
    expect(at('mlmodel import name=x ty')).toEqual(['type']);
    expect(at('mlmodel import name=x ')).not.toContain('name');
    expect(at('mlmodel export ')).toEqual(['name', 'path', 'expires', 'overwrite']);
    expect(at('mlmodel deploy mnist_v1 ')).toEqual(['label']);
    expect(tab('mlmodel import na')).toEqual({ text: 'mlmodel import name=', cursor: 20, shown: [] });
  });

  it('offers values for type= and path=', () => {
    expect(at('mlmodel import name=x type=s')).toEqual(['sklearn', 'spark']);
    expect(at('mlmodel import name=x path=OBJ')).toEqual(['OBJECTSTORAGE.MINIO:', 'OBJECTSTORAGE.S3:']);
    // A connector prefix is followed straight by the key, not a space.
    expect(tab('mlmodel import path=OBJECTSTORAGE.M').text).toBe('mlmodel import path=OBJECTSTORAGE.MINIO:');
  });

  it('offers the fields of the table a stage works on', () => {
    expect(at('mlmodel list | where c')).toEqual(['category', 'create']);
    expect(at('mlmodel list | sort -mo')).toEqual(['-modified']);
    expect(at('mlmodel list | fields id, n')).toEqual(['name']);
    expect(at('mlmodel summary iris ')).toEqual(expect.arrayContaining(['id', 'format', 'sha256']));
    expect(at('mlmodel summary iris f')).toEqual(['format']);
    expect(at('serving status iris | where s')).toEqual(['state']);
    expect(at('mlmodel summary iris | fields ')).toEqual(['name', 'value']);
  });

  it('offers nothing inside a quote, after a bad character, or where a new name goes', () => {
    expect(at("mlmodel list | where name = 'mn")).toEqual([]);
    expect(at('mlmodel list | where a ! ')).toEqual([]);
    expect(at('mlmodel rename iris as ')).toEqual([]);
  });

  it('completes a unique word with a space, extends a shared prefix, lists the rest', () => {
    expect(tab('mlmodel summary ir')).toEqual({ text: 'mlmodel summary iris ', cursor: 21, shown: [] });
    expect(tab('mlmodel summary m')).toEqual({ text: 'mlmodel summary mnist_v', cursor: 23, shown: [] });
    expect(tab('mlmodel summary mnist_v')).toEqual({ text: 'mlmodel summary mnist_v', cursor: 23, shown: ['mnist_v1', 'mnist_v2'] });
    // In the middle of a line, only the word before the cursor is replaced (and a space already there is reused).
    const mid = applyCompletion('mlmodel summ | head 1', 12, catalog);
    expect(mid).toEqual({ text: 'mlmodel summary | head 1', cursor: 15, shown: [] });
    expect(commonPrefix(['Mnist_a', 'mnist_b'])).toBe('Mnist_');
  });
});

describe('completion data from a registry', () => {
  let registry: Registry;
  beforeAll(async () => {
    const home = mkdtempSync(join(tmpdir(), 'mlmodel-complete-'));
    registry = await openRegistry({ env: { MLMODEL_HOME: home, MLMODEL_USER: 'root', MLMODEL_CONNECTOR_ARCHIVE: `file://${home}/archive` } });
  });
  afterAll(async () => registry?.close());

  it('offers every option each command declares, and what the engine refuses is what completion does not offer', async () => {
    for (const c of COMMANDS) {
      const declared = Object.keys(c.syntax.options ?? {});
      // The parts before the options, filled in: a model, a word (a sub-command's first word), a required list.
      const before = c.syntax.args.flatMap((a) =>
        a.kind === 'model' ? ['m'] : a.kind === 'word' ? [a.words?.[0] ?? 'w1'] : a.kind === 'names' && !a.optional ? ['x1'] : [],
      );
      const head = `${[c.syntax.prefix ?? 'mlmodel', c.syntax.keywords[0], ...before].join(' ')} `;
      if (!c.syntax.args.some((a) => a.kind === 'options')) continue;
      expect([...at(head)].sort(), head).toEqual([...declared].sort());
      // The engine's own word on a key nobody declared names the same list.
      const ast = { kind: 'query' as const, command: { kind: c.syntax.kind ?? c.syntax.keywords[0], ...(c.syntax.args.some((a) => a.kind === 'model') ? { model: { name: 'm' } } : {}), options: [{ key: 'zz_no_such_option', value: '1' }] }, stages: [] };
      const err = await registry.execute(ast).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isMlmodelError(err, 'INVALID_ARGUMENT'), `${head}: ${String(err)}`).toBe(true);
      expect([...((err as { details: { valid?: string[] } }).details.valid ?? [])].sort(), head).toEqual([...declared].sort());
    }
    // Enum and boolean options complete their values.
    expect(at('mlmodel import type=')).toEqual(['r', 'sklearn', 'spark', 'tf', 'onnx']);
    expect(at('mlmodel fsck repair=')).toEqual(['true', 'false']);
    expect(at('mlmodel predict iris ')).toEqual(['instances', 'inputs', 'file']);
    expect(at('mlmodel files m sortby=')).toEqual(['name', 'mod', 'size']);
    expect(printModelRef({ name: 'm', version: 2 })).toBe('m@2');
  });

  it('reads model names, fields and connectors from the store and config', async () => {
    const c = await registryBackend(registry).catalog();
    expect(c.models).toEqual([]);
    expect(c.fields).toEqual(expect.arrayContaining(['id', 'name', 'modified', 'sha256', 'parameter']));
    expect(c.connectors).toEqual(['ARCHIVE']);
    expect(c.modelTypes).toEqual(['r', 'sklearn', 'spark', 'tf', 'onnx']);
  });
});
