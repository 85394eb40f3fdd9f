import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasUnsafeChar } from '../../../grammar/control-chars.js';
import { ReplController } from '../../../console/repl/controller.js';
import { registryBackend } from '../../../console/repl/session.js';
import { fromTerminalText } from '../../../console/render/terminal-text.js';
import { loadConfig } from '../../../src/config/index.js';
import { openRegistry, type Registry } from '../../../src/engine/registry.js';
import { MlmodelError } from '../../../src/errors.js';
import { file, tar } from '../../archive/tar-writer.js';
import { runs } from '../../grammar/arbitraries.js';
import { hostileText, queryLiteral as literal } from '../render/hostile.js';

/**
 * Issue 15.5 in the REPL: results and errors go through the same escaping
 * as batch output. Hostile descriptions are stored in a real embedded
 * registry and listed; errors quoting hostile text are shown.
 */
let root: string;
let registry: Registry;
const stored: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-repl-hostile-'));
  await writeFile(join(root, 'm.tar'), tar(file('saved_model.pb', 'graph')));
  registry = await openRegistry({ config: loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root' }) });
  for (const [i, d] of fc.sample(hostileText.filter((s) => s.length > 0), runs(40)).entries()) {
    await registry.run(`mlmodel import name=m${i} type=tf path=${join(root, 'm.tar')} description=${literal(d)}`);
    stored.push(d);
  }
}, 120_000);
afterAll(async () => {
  await registry?.close();
  await rm(root, { recursive: true, force: true });
});

async function session(backend = registryBackend(registry)) {
  const c = new ReplController({ backend, history: { entries: [], add: () => undefined }, width: 100 });
  const run = async (q: string) => {
    const before = c.snapshot.items.length;
    c.input(q + '\r');
    const deadline = Date.now() + 20_000;
    while (c.snapshot.running || c.snapshot.items.length === before + 1) {
      if (Date.now() > deadline) throw new Error(`timed out on ${q}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return c.snapshot.items.slice(before + 1);
  };
  return { c, run };
}

describe('the REPL shows hostile text escaped', () => {
  it('stored descriptions, in the table and in every format the REPL switches to', async () => {
    const { run } = await session();
    for (const format of ['table', 'markdown', 'html', 'csv', 'tsv', 'json', 'jsonl']) {
      await run(`\\format ${format}`);
      for (const x of ['off', 'on']) {
        await run(`\\x ${x}`);
        for (let i = 0; i < stored.length; i += 7) {
          const [item] = await run(`mlmodel summary m${i}`);
          expect(item!.kind, item!.text).toBe('result');
          expect(hasUnsafeChar(item!.text.replace(/\r\n|[\n\t]/g, '')), `${format}: ${JSON.stringify(item!.text)}`).toBe(false);
          // The stored text is really there (and exact, where the format keeps it so).
          if (format === 'json') expect((JSON.parse(item!.text) as { rows: unknown[][] }).rows).toContainEqual(['description', stored[i]]);
        }
      }
    }
    expect(stored.length).toBeGreaterThan(10);
  }, 120_000);

  it('errors quoting hostile text read back exactly, and nothing in them acts', async () => {
    for (const text of fc.sample(hostileText, runs(100))) {
      const backend = { ...registryBackend(registry), run: async () => Promise.reject(new MlmodelError('CONFLICT', `model ${text} is busy`)) };
      const { run } = await session(backend);
      const [item] = await run('mlmodel list');
      expect(item!.kind).toBe('error');
      expect(hasUnsafeChar(item!.text.replace(/\r\n|[\n\t]/g, '')), JSON.stringify(item!.text)).toBe(false);
      expect(fromTerminalText(item!.text)).toBe(`error: model ${text} is busy (CONFLICT)`);
    }
  }, 60_000);
});
