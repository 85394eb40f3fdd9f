import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runs } from '../grammar/arbitraries.js';
import { leaks, password, shape } from '../reliability/secret-leaks.js';
import { describeWithServer } from '../servers/servers.js';

/**
 * Issue 15.6 against the real servers: the MinIO and the MongoDB-wire server
 * of the test setup, reached with generated wrong secrets (percent-encoded,
 * so the URL is valid and the server itself answers). Neither what the
 * server says back nor anything mlmodel adds may hold the secret.
 */
const CLI = resolve(import.meta.dirname, '../../dist/console/cli.js');
const run = randomBytes(3).toString('hex');
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-secrets-servers-'));
  await writeFile(join(root, 'none.yaml'), '');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function cli(args: string[], extra: Record<string, string>): Promise<string> {
  const env = { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_CONFIG: join(root, 'none.yaml'), ...extra };
  return new Promise((res) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('close', (code) => res(`${out}\n[exit ${code}]`));
  });
}

/** The server's URL with its password replaced. */
function withPassword(url: string, pw: string): string {
  const u = new URL(url);
  u.password = encodeURIComponent(pw);
  return u.toString();
}

const check = async (what: string, pw: string, args: string[], env: (pw: string) => Record<string, string>) => {
  const out = await cli(args, env(pw));
  const baseline = leaks(out, pw, '').length > 0 ? await cli(args, env(shape(pw))) : '';
  expect(leaks(out, pw, baseline), `${what} with ${JSON.stringify(pw)}:\n${out}`).toEqual([]);
  expect(out).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  return out;
};

describeWithServer('minio', 'a wrong MinIO secret', (minioUrl) => {
  it('the server refuses it; nothing printed holds it', async () => {
    const base = `${minioUrl.replace(/\/+$/, '')}/secrets-${run}`;
    for (const pw of fc.sample(password, runs(6))) {
      const out = await check('MLMODEL_MINIO_URL', pw, ['-c', 'mlmodel list'], (p) => ({ MLMODEL_MINIO_URL: withPassword(base, p) }));
      // The server really answered, and said no.
      expect(out, out).toMatch(/\[exit 1\]/);
      expect(out, out).toMatch(/signature|access key|denied|credential/i);
      await check('a connector', pw, ['--format', 'json', '-c', 'mlmodel import name=x type=tf path=OBJECTSTORAGE.LAKE:a.tar'], (p) => ({
        MLMODEL_CONNECTOR_LAKE: withPassword(base, p),
      }));
    }
  }, 300_000);
});

describeWithServer('mongodb', 'a MongoDB password', (mongoUrl) => {
  it('whether the server takes it or not, nothing printed holds it', async () => {
    const u = new URL(mongoUrl);
    u.pathname = `/mlmodel_secrets_${run}`;
    u.username = u.username || 'registry';
    u.searchParams.set('serverSelectionTimeoutMS', '3000');
    for (const pw of fc.sample(password, runs(6))) {
      await check('MLMODEL_MONGODB_URL', pw, ['--format', 'json', '-c', 'mlmodel list'], (p) => ({ MLMODEL_MONGODB_URL: withPassword(u.toString(), p) }));
    }
  }, 300_000);
});
