import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeConfig, loadConfig, redact, type Env } from '../../src/config/index.js';
import { isMlmodelError } from '../../src/errors.js';
import { runs } from '../grammar/arbitraries.js';
import { leaks, password, shape } from './secret-leaks.js';

/**
 * Issue 15.6: secrets never print. Passwords are generated from the whole
 * printable set, with / # ? @ : % and spaces left unencoded or encoded, and
 * put where a person would put them: MLMODEL_MONGODB_URL, MLMODEL_MINIO_URL,
 * a connector, the serving base, config.yaml (valid, and broken YAML around
 * the secret line). No output may hold the secret or any distinctive part
 * of it: a 4-character window of it counts unless the same output for a
 * password of the same shape (letters and digits replaced by Z) holds it too
 * (then it is the message's own text, like "/ # ?").
 */
const CLI = resolve(import.meta.dirname, '../../dist/console/cli.js');
const stats = { cases: 0, failedAsConfig: 0, loaded: 0, cli: 0 };
afterAll(() => console.log(`secrets: ${JSON.stringify(stats)}`));

type Placement = { name: string; env: (pw: string, root: string) => Env; yaml?: (pw: string) => string; query?: string };

const q = (s: string) => JSON.stringify(s);
const PLACES: Placement[] = [
  { name: 'MLMODEL_MINIO_URL, raw', env: (pw) => ({ MLMODEL_MINIO_URL: `http://AKIAKEY:${pw}@127.0.0.1:9/bucket` }) },
  { name: 'MLMODEL_MINIO_URL, encoded', env: (pw) => ({ MLMODEL_MINIO_URL: `http://AKIAKEY:${encodeURIComponent(pw)}@127.0.0.1:9/bucket` }) },
  { name: 'MLMODEL_MINIO_URL, no scheme', env: (pw) => ({ MLMODEL_MINIO_URL: `AKIAKEY:${pw}@127.0.0.1:9/bucket` }) },
  { name: 'MLMODEL_MONGODB_URL, raw', env: (pw) => ({ MLMODEL_MONGODB_URL: `mongodb://registry:${pw}@127.0.0.1:9/mlmodel?serverSelectionTimeoutMS=200` }) },
  { name: 'MLMODEL_MONGODB_URL, encoded', env: (pw) => ({ MLMODEL_MONGODB_URL: `mongodb://registry:${encodeURIComponent(pw)}@127.0.0.1:9/mlmodel?serverSelectionTimeoutMS=200&connectTimeoutMS=200` }) },
  { name: 'MLMODEL_MONGODB_URL, unknown option', env: (pw) => ({ MLMODEL_MONGODB_URL: `mongodb://registry:${encodeURIComponent(pw)}@127.0.0.1:9/mlmodel?notAnOption=1` }) },
  { name: 'MLMODEL_MONGODB_URL, no scheme', env: (pw) => ({ MLMODEL_MONGODB_URL: `registry:${pw}@127.0.0.1:9/mlmodel` }) },
  { name: 'a connector, raw', env: (pw) => ({ MLMODEL_CONNECTOR_LAKE: `http://AKIALAKE:${pw}@127.0.0.1:9/lake` }), query: 'mlmodel import name=x type=tf path=OBJECTSTORAGE.LAKE:a.tar' },
  { name: 'a connector, encoded', env: (pw) => ({ MLMODEL_CONNECTOR_LAKE: `http://AKIALAKE:${encodeURIComponent(pw)}@127.0.0.1:9/lake` }), query: 'mlmodel import name=x type=tf path=OBJECTSTORAGE.LAKE:a.tar' },
  { name: 'the serving base, raw', env: (pw) => ({ MLMODEL_SERVING_BASE: `http://AKIASERVE:${pw}@127.0.0.1:9/serving` }) },
  { name: 'config.yaml minio_url, quoted', env: () => ({}), yaml: (pw) => `minio_url: ${q(`http://AKIAKEY:${pw}@127.0.0.1:9/bucket`)}\n` },
  { name: 'config.yaml connector secret_key, quoted', env: () => ({}), yaml: (pw) => `connectors:\n  lake:\n    endpoint: http://127.0.0.1:9\n    bucket: lake\n    access_key: AKIALAKE\n    secret_key: ${q(pw)}\n`, query: 'mlmodel import name=x type=tf path=OBJECTSTORAGE.LAKE:a.tar' },
  { name: 'config.yaml connector secret_key, unquoted (often broken YAML)', env: () => ({}), yaml: (pw) => `connectors:\n  lake:\n    endpoint: http://127.0.0.1:9\n    bucket: lake\n    secret_key: ${pw}\n    access_key: AKIALAKE\n` },
  { name: 'config.yaml secret line, broken YAML', env: () => ({}), yaml: (pw) => `connectors:\n  lake:\n    secret_key: ${pw}: [\n` },
  { name: 'config.yaml http token, lost indentation', env: () => ({}), yaml: (pw) => `http:\n  tokens:\n  ${q(`tok-${pw}-0123456789`)}: alice\n` },
  { name: 'config.yaml http token, broken YAML', env: () => ({}), yaml: (pw) => `http:\n  tokens:\n    tok-${pw}-0123456789: alice\n   bad: [\n` },
];

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-secrets-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Everything the configuration layer lets out for one placement: the error, or the printable config and a driver-style message. */
async function configOutput(place: Placement, pw: string, dir: string): Promise<string> {
  const env: Env = { HOME: dir, MLMODEL_HOME: join(dir, 'home'), MLMODEL_CONFIG: join(dir, 'config.yaml'), ...place.env(pw, dir) };
  await writeFile(join(dir, 'config.yaml'), place.yaml ? place.yaml(pw) : '');
  try {
    const config = loadConfig(env);
    stats.loaded++;
    const url = Object.values(env).filter((v): v is string => typeof v === 'string' && v.includes(pw)).join(' ');
    // A driver that echoes the URL it was given, and the config printed whole.
    return [JSON.stringify(describeConfig(config)), redact(`connect failed for ${url}: refused`, config.secrets), String(config.secrets), JSON.stringify(config)].join('\n');
  } catch (e) {
    if (!isMlmodelError(e)) throw e;
    stats.failedAsConfig++;
    return `${e.message} ${JSON.stringify(e.details)} ${JSON.stringify(e)}`;
  }
}

describe('the configuration never lets a secret out', () => {
  it('generated passwords in every place: errors, printed config, redacted driver messages', async () => {
    const dir = await mkdtemp(join(root, 'in-process-'));
    const samples = fc.sample(fc.tuple(password, fc.constantFrom(...PLACES)), runs(1500));
    for (const [pw, place] of samples) {
      const out = await configOutput(place, pw, dir);
      // The same-shape run is needed only to judge windows the output does hold.
      const baseline = leaks(out, pw, '').length > 0 ? await configOutput(place, shape(pw), dir) : '';
      expect(leaks(out, pw, baseline), `${place.name} with ${JSON.stringify(pw)}:\n${out}`).toEqual([]);
      stats.cases++;
    }
  }, 300_000);
});

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('close', (code) => res(`${out}\n[exit ${code}]`));
  });
}

describe('the real CLI (mlmodel -c) never prints a secret, and never a stack trace', () => {
  const passwords = fc.sample(password, runs(2));
  const cases = passwords.flatMap((pw, k) => PLACES.map((place, i) => ({ pw, place, format: (i + k) % 2 ? 'json' : 'table' })));
  it(`${cases.length} runs: ${PLACES.length} places × ${passwords.length} generated passwords`, async () => {
    const one = async ({ pw, place, format }: (typeof cases)[number], n: number) => {
      const dir = await mkdtemp(join(root, `cli-${n}-`));
      const run = async (secret: string) => {
        await writeFile(join(dir, 'config.yaml'), place.yaml ? place.yaml(secret) : '');
        const env = { PATH: process.env.PATH, HOME: dir, MLMODEL_HOME: join(dir, 'home'), MLMODEL_CONFIG: join(dir, 'config.yaml'), ...place.env(secret, dir) };
        return cli(['--format', format, '-c', place.query ?? 'mlmodel list'], env);
      };
      const out = await run(pw);
      const baseline = leaks(out, pw, '').length > 0 ? await run(shape(pw)) : '';
      expect(leaks(out, pw, baseline), `${place.name} with ${JSON.stringify(pw)}:\n${out}`).toEqual([]);
      expect(out, out).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      expect(out).not.toMatch(/node:internal|Node\.js v\d/);
      stats.cli++;
    };
    // Two at a time: the machine is shared.
    for (let i = 0; i < cases.length; i += 2) await Promise.all(cases.slice(i, i + 2).map((c, k) => one(c, i + k)));
  }, 600_000);
});
