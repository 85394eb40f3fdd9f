import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createQueryServer, type QueryServer } from '../../console/serve/server.js';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { file, tar } from '../archive/tar-writer.js';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { F } from '../../src/store/filter.js';
import { metadataStoreFor, objectStoreFor } from '../../src/store/open.js';

/**
 * Issue 9.7: users change only their own models unless they are admins —
 * with the CLI's --user and with HTTP bearer tokens — and secrets never
 * appear in output, errors or logs.
 */
const CLI = resolve(import.meta.dirname, '../../dist/console/cli.js');

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (code) => res({ code, stdout, stderr }));
  });
}

const WRITES = (m: string) => [
  `mlmodel delete ${m}`,
  `mlmodel rename ${m} as stolen`,
  `mlmodel deploy ${m}`,
  `mlmodel stop ${m}`,
  `mlmodel tag ${m} pwned`,
  `mlmodel untag ${m} keep`,
  `mlmodel alias ${m}@1 pwned`,
  `mlmodel unalias ${m} prod`,
];

let root: string;
let env: NodeJS.ProcessEnv;
const TOKENS = { alice: 'alice-token-0123456789abcdef', bob: 'bob-token-0123456789abcdef00', carol: 'carol-admin-token-012345678' };

// Every case gets a home of its own, so the models it lists and the damage
// fsck finds are its own, whatever ran before it.
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-owners-'));
  await writeFile(join(root, 'm.tar'), tar(file('saved_model.pb', 'graph')));
  await writeFile(
    join(root, 'config.yaml'),
    `user: alice\nhttp:\n  tokens:\n${Object.entries(TOKENS).map(([u, t]) => `    ${t}: ${u}\n`).join('')}  admins: [carol]\n  local_roots: [${root}]\n`,
  );
  env = { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_CONFIG: join(root, 'config.yaml') };
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('ownership with the CLI (--user)', () => {
  it('bob cannot change alice\'s model in any way; he can read it', async () => {
    const as = (user: string, q: string) => cli(['--user', user, '--format', 'json', '-c', q], env);
    expect((await as('alice', `mlmodel import name=m type=tf path=${join(root, 'm.tar')}`)).code).toBe(0);
    expect((await as('alice', 'mlmodel tag m keep')).code).toBe(0);
    expect((await as('alice', 'mlmodel alias m@1 prod')).code).toBe(0);
    for (const q of [...WRITES('m'), ...WRITES('alice/m')]) {
      const r = await as('bob', q);
      expect(r.code, `${q}: ${r.stdout}`).toBe(1);
      expect(r.stdout).toMatch(/"code":"MODEL_NOT_FOUND"/);
    }
    // Reads of someone else's model are allowed, by its name or as owner/name.
    expect(JSON.parse((await as('bob', 'mlmodel summary alice/m tags')).stdout).rows).toEqual([['tags', 'keep']]);
    expect((await as('bob', 'mlmodel verify m')).code).toBe(0);
    const after = JSON.parse((await as('alice', 'mlmodel list')).stdout) as { rows: unknown[][] };
    expect(after.rows.map((r) => [r[1], r[2], r[6]])).toEqual([['alice', 'm', 'off']]);
  }, 120_000);

  it('carol, an admin (http.admins), changes alice\'s model only when she names it alice/m', async () => {
    const as = (q: string) => cli(['--user', 'carol', '--format', 'json', '-c', q], env);
    expect((await cli(['--format', 'json', '-c', `mlmodel import name=m type=tf path=${join(root, 'm.tar')}`], env)).code).toBe(0);
    expect((await cli(['--format', 'json', '-c', 'mlmodel tag m keep'], env)).code).toBe(0);
    expect((await as('mlmodel tag m by-carol')).stdout).toMatch(/"code":"MODEL_NOT_FOUND"/);
    expect(JSON.parse((await as('mlmodel tag alice/m by-carol')).stdout).rows).toEqual([['m', 1, 'keep,by-carol']]);
    expect((await as('mlmodel rename alice/m as m2')).code).toBe(0);
    const list = JSON.parse((await cli(['--format', 'json', '-c', 'mlmodel list'], env)).stdout) as { rows: unknown[][] };
    expect(list.rows.map((r) => [r[1], r[2]])).toEqual([['alice', 'm2']]);
    // The rename kept alice's name index right: alice may import m again, and m2 stays hers.
    expect((await cli(['--format', 'json', '-c', `mlmodel import name=m type=tf path=${join(root, 'm.tar')}`], env)).code).toBe(0);
    expect((await cli(['--format', 'json', '-c', 'mlmodel fsck grace=0'], env)).stdout).toMatch(/"rows":\[\]/);
    expect((await as('mlmodel delete alice/m2')).code).toBe(0);
    expect((await as('mlmodel delete alice/m')).code).toBe(0);
  }, 120_000);
});

describe('ownership over HTTP (bearer tokens)', () => {
  let registry: Registry;
  let server: QueryServer;
  let url: string;
  let logs: string[];
  // A server of its own for each case, on that case's home.
  beforeEach(async () => {
    logs = [];
    const config = loadConfig(env as Record<string, string>, {});
    registry = await openRegistry({ config, localRoots: config.http.localRoots });
    server = createQueryServer({ registry, log: (l) => logs.push(l) });
    ({ url } = await server.listen(0, '127.0.0.1'));
  });
  afterEach(async () => {
    await server?.close();
    await registry?.close();
  });
  const post = async (token: string | null, q: string, extra: Record<string, unknown> = {}) => {
    const res = await fetch(`${url}/query`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ q, ...extra }),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string }; results?: unknown[][] } };
  };

  it('tokens decide who acts; only the owner or an admin changes a model', async () => {
    expect((await post(TOKENS.alice, `mlmodel import name=h type=tf path=${join(root, 'm.tar')}`)).status).toBe(200);
    for (const q of [...WRITES('h'), ...WRITES('alice/h')]) {
      const r = await post(TOKENS.bob, q);
      expect([403, 404], `${q}: ${JSON.stringify(r.body)}`).toContain(r.status);
    }
    expect((await post(TOKENS.bob, 'mlmodel delete h', { user: 'alice' })).status).toBe(403);
    expect((await post(null, 'mlmodel delete h')).status).toBe(401);
    expect((await post('not-a-token-at-all-0123456789', 'mlmodel delete h')).status).toBe(401);
    expect((await post(TOKENS.carol, 'mlmodel tag alice/h ok')).status).toBe(200);
    expect((await post(TOKENS.carol, 'mlmodel delete h', { user: 'alice' })).status).toBe(200);
    expect((await post(TOKENS.alice, 'mlmodel list')).body.results).toEqual([]);
  });

  it('fsck over HTTP: a non-admin looks only at their own models and removes nothing; an admin repairs everything', async () => {
    const config = loadConfig(env as Record<string, string>, {});
    const meta = await metadataStoreFor(config);
    await meta.init();
    const objects = await objectStoreFor(config);
    try {
      for (const [token, name] of [[TOKENS.alice, 'fa'], [TOKENS.alice, 'fa2'], [TOKENS.bob, 'fb']] as const) {
        expect((await post(token, `mlmodel import name=${name} type=tf path=${join(root, 'm.tar')}`)).status).toBe(200);
      }
      // Damage of both users' kinds: an interrupted delete each, and an orphan object nobody owns.
      const [fa2] = await meta.findModels({ filter: F.and(F.eq('user', 'alice'), F.eq('name', 'fa2')) });
      const [fb] = await meta.findModels({ filter: F.and(F.eq('user', 'bob'), F.eq('name', 'fb')) });
      await meta.updateModel(fa2!.uid, { state: 'DELETING' });
      await meta.updateModel(fb!.uid, { state: 'DELETING' });
      const orphan = `models/${randomUUID()}/archive`;
      await objects.put(orphan, Readable.from([Buffer.from('left by a crashed import')]));

      for (const grace of ['-99999999', 'abc', '-1']) {
        const r = await post(TOKENS.bob, `mlmodel fsck repair=true grace=${grace}`);
        expect(r.status, JSON.stringify(r.body)).toBe(400);
      }
      const bob = await post(TOKENS.bob, 'mlmodel fsck repair=true grace=0');
      expect(bob.status).toBe(200);
      expect(JSON.stringify(bob.body.results)).not.toContain('alice');
      expect(JSON.stringify(bob.body.results)).not.toContain(orphan);
      expect(bob.body.results).toContainEqual(['interrupted delete', 'bob/fb', expect.stringContaining('being deleted'), 'needs an admin (http.admins): it removes data']);
      // Nothing was removed: not alice's, not the orphan, not even bob's own half-deleted model.
      expect(await objects.stat(orphan)).not.toBeNull();
      expect(await meta.getModel(fa2!.uid)).not.toBeNull();
      expect(await meta.getModel(fb!.uid)).not.toBeNull();
      expect((await post(TOKENS.alice, 'mlmodel summary fa version')).status).toBe(200);

      const carol = await post(TOKENS.carol, 'mlmodel fsck repair=true grace=0');
      expect(carol.status).toBe(200);
      expect(carol.body.results).toEqual(
        expect.arrayContaining([
          ['interrupted delete', 'alice/fa2', expect.stringContaining('being deleted'), 'repaired'],
          ['interrupted delete', 'bob/fb', expect.stringContaining('being deleted'), 'repaired'],
          ['orphan object', orphan, 'no record points to it', 'repaired'],
        ]),
      );
      expect(await objects.stat(orphan)).toBeNull();
      expect(await meta.getModel(fa2!.uid)).toBeNull();
      expect((await post(TOKENS.carol, 'mlmodel fsck grace=0')).body.results).toEqual([]);
      // alice's live model was never touched.
      expect((await post(TOKENS.alice, 'mlmodel verify fa')).status).toBe(200);
    } finally {
      await meta.close();
      await objects.close();
    }
  });

  it('no token appears in any log line or error', async () => {
    // Requests of every kind the other cases make: accepted, refused (401, 403, 404), writes and reads.
    const replies = [
      await post(TOKENS.alice, `mlmodel import name=t type=tf path=${join(root, 'm.tar')}`),
      await post(TOKENS.bob, 'mlmodel delete alice/t'),
      await post(TOKENS.bob, 'mlmodel delete t', { user: 'alice' }),
      await post(TOKENS.carol, 'mlmodel fsck grace=0'),
      await post(null, 'mlmodel list'),
      await post('alice-token-0123456789abcdeX', 'mlmodel list'),
      await post(TOKENS.bob, 'mlmodel delete nothing'),
    ];
    expect(replies.map((r) => r.status)).toEqual([200, 404, 403, 200, 401, 401, 404]);
    const all = logs.join('\n') + JSON.stringify(replies);
    expect(logs.length).toBeGreaterThanOrEqual(replies.length);
    for (const t of [...Object.values(TOKENS), 'alice-token-0123456789abcdeX']) expect(all).not.toContain(t);
  });
});

describe('secrets never appear in output, errors or logs', () => {
  const SECRET = 'S3cr3t-Never-Shown-42';
  const PASSWORD = 'Pa55-Never-Shown-77';
  const cases: Array<[string, NodeJS.ProcessEnv, string[]]> = [
    ['an unreachable MinIO', { MLMODEL_MINIO_URL: `http://AKIAFAULT:${SECRET}@127.0.0.1:9/bucket` }, ['-c', 'mlmodel list']],
    ['an unreachable MinIO during import', { MLMODEL_MINIO_URL: `http://AKIAFAULT:${SECRET}@127.0.0.1:9/bucket` }, ['-c', 'IMPORT']],
    ['a malformed MinIO URL', { MLMODEL_MINIO_URL: `http://AKIAFAULT:${SECRET}@127.0.0.1:notaport/bucket` }, ['-c', 'mlmodel list']],
    ['an unreachable connector', { MLMODEL_CONNECTOR_LAKE: `http://AKIALAKE:${SECRET}@127.0.0.1:9/lake` }, ['-c', 'mlmodel import name=x type=tf path=OBJECTSTORAGE.LAKE:a.tar']],
    ['an unreachable MongoDB', { MLMODEL_MONGODB_URL: `mongodb://registry:${PASSWORD}@127.0.0.1:9/mlmodel?serverSelectionTimeoutMS=300&connectTimeoutMS=300` }, ['-c', 'mlmodel list']],
    ['a malformed MongoDB URL', { MLMODEL_MONGODB_URL: `mongodb://registry:${PASSWORD}@127.0.0.1:notaport/mlmodel` }, ['-c', 'mlmodel list']],
    ['--parse and a parse error', { MLMODEL_MINIO_URL: `http://AKIAFAULT:${SECRET}@127.0.0.1:9/bucket` }, ['--parse', '-c', 'mlmodel lisst']],
  ];
  for (const [what, extra, args] of cases) {
    it(`with ${what}`, async () => {
      const a = args.map((x) => (x === 'IMPORT' ? `mlmodel import name=x type=tf path=${join(root, 'm.tar')}` : x));
      for (const format of ['table', 'json']) {
        const r = await cli(['--format', format, '--home', join(root, 'secret-home'), ...a], { ...env, MLMODEL_CONFIG: join(root, 'none.yaml'), ...extra });
        const text = r.stdout + r.stderr;
        if (!a.includes('--parse')) expect(r.code, text).not.toBe(0);
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(PASSWORD);
        expect(text).not.toContain(encodeURIComponent(SECRET));
      }
      // The config file never gets a secret written into it, and the home holds none.
      const written = await readdir(root, { recursive: true, withFileTypes: true });
      for (const f of written.filter((e) => e.isFile())) {
        const body = await readFile(join(f.parentPath, f.name), 'latin1');
        expect(body, f.name).not.toContain(SECRET);
        expect(body, f.name).not.toContain(PASSWORD);
      }
      expect(written.map((f) => f.name)).toContain('config.yaml');
    }, 60_000);
  }
});
