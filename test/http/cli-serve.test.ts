import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRACKING_ENDPOINTS } from '../../console/serve/tracking-routes.js';
import { rawRequest } from './harness.js';

/** `mlmodel serve` as a subprocess of the built CLI. */
const CLI = new URL('../../dist/console/cli.js', import.meta.url).pathname;
const TOKEN = 'cli-serve-token-0123456789abcdef';

function fresh(config: string): { env: NodeJS.ProcessEnv; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'mlmodel-serve-'));
  writeFileSync(join(root, 'config.yaml'), config);
  return { root, env: { PATH: process.env.PATH, HOME: root, MLMODEL_HOME: join(root, 'home'), MLMODEL_CONFIG: join(root, 'config.yaml'), TZ: 'UTC' } };
}

describe('mlmodel serve', () => {
  it('listens, answers with the token’s user, logs without secrets, and stops cleanly on SIGTERM', async () => {
    const { env } = fresh(`user: root\nhttp:\n  tokens:\n    ${TOKEN}: carol\n`);
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${stderr}`)), 15_000);
      child.stdout.on('data', (d) => {
        stdout += d;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    try {
      const denied = await fetch(`${url}/query`, { method: 'POST', body: '{"q":"mlmodel list"}' });
      expect(denied.status).toBe(401);
      const res = await fetch(`${url}/query`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ q: 'mlmodel summary nothing_here' }),
      });
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'MODEL_NOT_FOUND' } });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('mlmodel serve: 1 token(s) configured; every request needs one\n');
    expect(stderr).toContain('POST /query 401 ');
    expect(stderr).toMatch(/POST \/query 404 \d+ms user=carol\n/);
    expect(stderr).toContain('mlmodel serve: stopping\n');
    expect(stderr + stdout).not.toContain(TOKEN);
  });

  it('beyond loopback answers only its own addresses and the names MLMODEL_HTTP_ALLOWED_HOSTS lists (no start-up warning then)', async () => {
    const { env } = fresh(`user: root\nhttp:\n  tokens:\n    ${TOKEN}: carol\n`);
    const child = spawn(process.execPath, [CLI, 'serve', '--host', '0.0.0.0', '--port', '0'], {
      env: { ...env, MLMODEL_HTTP_ALLOWED_HOSTS: 'models.test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // 'close', not 'exit': stderr may still hold data when the process has exited.
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      const port = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no listening line; stderr: ${stderr}`)), 15_000);
        child.stdout.on('data', (d) => {
          out += d;
          const m = /listening on http:\/\/0\.0\.0\.0:(\d+)\n/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      const url = `http://127.0.0.1:${port}`;
      const auth = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
      const body = '{"q": "mlmodel list"}';
      for (const [host, status] of [[`127.0.0.1:${port}`, 200], ['models.test', 200], [`models.test:${port}`, 200], [`evil.test:${port}`, 403], [`models.test.evil:${port}`, 403]] as const) {
        const r = await rawRequest(url, 'POST', '/query', { Host: host, ...auth }, body);
        expect(r.status, host).toBe(status);
        if (status === 403) expect(r.body.error.code).toBe('FORBIDDEN_HOST');
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).not.toContain('answering the Host names');
    expect(stderr).toMatch(/POST \/query 403 \d+ms user=-\n/);
  });

  it('warns at start when beyond loopback with no http.allowed_hosts', async () => {
    const { env } = fresh(`user: root\nhttp:\n  tokens:\n    ${TOKEN}: carol\n`);
    const child = spawn(process.execPath, [CLI, 'serve', '--host', '0.0.0.0', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('listening on') && resolve()));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain(
      "mlmodel serve: answering the Host names localhost, 127.0.0.1, [::1] and this machine's addresses only; list other names in http.allowed_hosts\n",
    );
  });

  it('refuses to listen beyond loopback without tokens', () => {
    const { env } = fresh('user: root\n');
    const r = spawnSync(process.execPath, [CLI, 'serve', '--host', '0.0.0.0', '--port', '0'], { env, encoding: 'utf8', timeout: 15_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('mlmodel serve: refusing to listen on 0.0.0.0 without tokens; add http.tokens to the config file (see docs/http.md) or listen on 127.0.0.1\n');
  });

  it('refuses bad flags and a bad http section with status 2, never echoing a token', () => {
    const { env } = fresh('user: root\n');
    const bad = spawnSync(process.execPath, [CLI, 'serve', '--port', 'eighty'], { env, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('mlmodel serve: --port must be a number from 0 to 65535\n');
    for (const n of ['0', '1.5', 'lots', '70000']) {
      const batch = spawnSync(process.execPath, [CLI, 'serve', '--model', 'iris', '--max-batch', n], { env, encoding: 'utf8' });
      expect(batch.status).toBe(2);
      expect(batch.stderr).toBe('mlmodel serve: --max-batch must be a number from 1 to 65536\n');
    }
    const short = fresh('http:\n  tokens:\n    tooshort: dave\n');
    const r = spawnSync(process.execPath, [CLI, 'serve', '--port', '0'], { env: short.env, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/http\.tokens: the token for dave must be at least 16 characters without spaces \(CONFIG_INVALID\)\n$/);
    expect(r.stderr).not.toContain('tooshort');
    const help = spawnSync(process.execPath, [CLI, 'serve', '--help'], { env, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('usage: mlmodel serve [--port N] [--predict-port N] [--predict-workers N] [--host ADDR]');
    expect(help.stdout).toMatch(/--predict-workers N\n +answer predictions from N worker processes sharing the port/);
    expect(help.stdout).toContain('mlmodel serve --model NAME[@VERSION|@ALIAS]');
    // The tracking endpoints, one line each, from the route table the server routes by.
    for (const e of TRACKING_ENDPOINTS) {
      const line = help.stdout.split('\n').find((l) => l.trim().split(/\s+/, 2).join(' ') === `${e.method} ${e.path}`);
      expect(line, `${e.method} ${e.path}`).toBeDefined();
      expect(line!.endsWith(`  ${e.summary}`), line).toBe(true);
    }
    expect(help.stdout).toContain('"user": NAME in a POST body, or user=NAME on a GET');
  });
});
