import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasUnsafeChar } from '../../grammar/control-chars.js';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { isMlmodelError } from '../../src/errors.js';
import { quote, renderModelsConfig, type ServedModel } from '../../src/serving/models-config.js';
import { file, tar } from '../archive/tar-writer.js';
import { runs } from '../grammar/arbitraries.js';
import { cachedPython } from '../notebook/python-env.js';
import { hostileText, queryLiteral as literal } from '../console/render/hostile.js';

/**
 * Issue 15.5: models.config is protobuf text format, read by TF Serving's
 * parser. Every name, path and label mlmodel writes into it must come back
 * from that parser exactly — here protobuf's Python text_format with TF
 * Serving's own ModelServerConfig (tensorflow-serving-api, without
 * TensorFlow) — and the file holds no raw control character. Labels that
 * hold controls are refused at deploy with INVALID_ARGUMENT.
 */
const PARSER = new URL('./parse_models_config.py', import.meta.url).pathname;
const REQUIREMENTS = new URL('./text-format-requirements.txt', import.meta.url).pathname;
let python: string;

beforeAll(async () => {
  python = await cachedPython(
    { name: 'tf-serving-protos', requirements: REQUIREMENTS, what: 'tensorflow-serving-api protos, protobuf', pipArgs: ['--no-deps'] },
    (m) => console.log(m),
  );
}, 600_000);

interface Parsed {
  models?: Array<{ name: string; base_path: string; platform: string; versions: number[]; labels: Record<string, number> }>;
  error?: string;
}

/** Parses many models.config texts with one Python process. */
function parseAll(texts: string[]): Promise<Parsed[]> {
  return new Promise((res, rej) => {
    const child = spawn(python, [PARSER], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', rej);
    child.once('close', (code) => (code === 0 ? res(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Parsed)) : rej(new Error(err))));
    child.stdin.end(texts.map((t) => JSON.stringify(t)).join('\n') + '\n');
  });
}

const noLoneSurrogate = (s: string) => !/\p{Cs}/u.test(s);
const text = hostileText.filter(noLoneSurrogate);
const served: fc.Arbitrary<ServedModel[]> = fc.uniqueArray(
  fc.record({
    name: text,
    basePath: text,
    versions: fc.uniqueArray(fc.integer({ min: 1, max: 1e6 }), { minLength: 1, maxLength: 3 }),
    labels: fc.dictionary(text, fc.integer({ min: 1, max: 1e6 }), { maxKeys: 3 }),
  }),
  { maxLength: 3, selector: (m) => m.name },
);

describe("models.config through protobuf's text_format parser", () => {
  it('every name, base path and label comes back exactly; the file holds no raw control character', async () => {
    const cases = fc.sample(served, runs(600));
    const texts = cases.map((models) => renderModelsConfig(models));
    const parsed = await parseAll(texts);
    expect(parsed).toHaveLength(cases.length);
    let labels = 0;
    cases.forEach((models, i) => {
      expect(parsed[i]!.error, texts[i]).toBeUndefined();
      expect(hasUnsafeChar(texts[i]!.replace(/\n/g, '')), texts[i]).toBe(false);
      const want = [...models]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((m) => ({ name: m.name, base_path: m.basePath, platform: 'tensorflow', versions: [...m.versions].sort((a, b) => a - b), labels: { ...m.labels } }));
      expect(parsed[i]!.models).toEqual(want);
      labels += models.reduce((n, m) => n + Object.keys(m.labels).length, 0);
    });
    console.log(`models.config: ${cases.length} generated configs, ${labels} labels, parsed back exactly`);
  }, 600_000);

  it('the escapes themselves: NUL, ESC, DEL, C1, bidi, quotes and backslashes', async () => {
    const tricky = ['a\0b', '\x1b]52;c;eA==\x07', '\x7f', '\x9b31m', 'rtl\u202eevil', "it's", 'a"b', 'back\\slash', '\\x41', '\\101', 'line\nbreak', '한국어', '\ud83d\ude00'];
    const [p] = await parseAll([renderModelsConfig([{ name: 'root_m', basePath: '/srv/root_m', versions: [1], labels: Object.fromEntries(tricky.map((l, i) => [l, i + 1])) }])]);
    expect(p!.models![0]!.labels).toEqual(Object.fromEntries(tricky.map((l, i) => [l, i + 1])));
    expect(quote('a\0b')).toBe("'a\\000b'");
    expect(quote('\u202e')).toBe("'\\342\\200\\256'");
    expect(quote('한')).toBe("'한'");
  });

  it('a lone surrogate, which has no UTF-8 form, is refused rather than written as U+FFFD', () => {
    for (const s of ['\ud800', 'a\udfffb', '\ud83d']) {
      expect(() => quote(s)).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error);
    }
  });
});

describe('deploy refuses labels models.config and terminals cannot hold', () => {
  let root: string;
  let registry: Registry;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mlmodel-labels-'));
    await writeFile(join(root, 'm.tar'), tar(file('saved_model.pb', 'graph')));
    registry = await openRegistry({ config: loadConfig({ HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_USER: 'root' }) });
    // One model for each case: m is never deployed, q is, whichever case runs first.
    await registry.run(`mlmodel import name=m type=tf path=${join(root, 'm.tar')}`);
    await registry.run(`mlmodel import name=q type=tf path=${join(root, 'm.tar')}`);
  });
  afterAll(async () => {
    await registry?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('labels with control, bidi or invisible characters: INVALID_ARGUMENT, nothing deployed', async () => {
    const bad = fc.sample(
      fc.tuple(fc.string({ maxLength: 5 }), fc.constantFrom('\0', '\x1b', '\x07', '\x7f', '\x9b', '\u202e', '\u2066', '\u200b', '\ufeff', '\u2028', '\ud800'), fc.string({ maxLength: 5 })).map((p) => p.join('')),
      runs(60),
    );
    for (const label of bad) {
      const q = `mlmodel deploy m label=${literal(label)}`;
      const e = await registry.run(q).then(
        () => null,
        (err: unknown) => err,
      );
      // The grammar may already refuse a raw control in a query; either way nothing is deployed.
      if (isMlmodelError(e)) expect(e.code, label).toBe('INVALID_ARGUMENT');
      else expect(e, JSON.stringify(label)).toHaveProperty('name', 'ParseError');
    }
    const status = await registry.run('serving status m');
    expect(status.rows).toEqual([]);
    const config = await readFile(join(root, 'home', 'serving', 'models.config'), 'utf8').catch(() => '');
    expect(hasUnsafeChar(config.replace(/\n/g, ''))).toBe(false);
  });

  it("a label with quotes, backslashes and Hangul deploys, and TF Serving's parser reads it back", async () => {
    const label = `it's "v1" \\ 한국어`;
    await registry.run(`mlmodel deploy q label=${literal(label)}`);
    const config = await readFile(join(root, 'home', 'serving', 'models.config'), 'utf8');
    const [p] = await parseAll([config]);
    expect(p!.models).toEqual([expect.objectContaining({ name: 'root_q', labels: { [label]: 1 } })]);
  });
});
