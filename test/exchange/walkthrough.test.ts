/**
 * docs/exchange.md runs as written: its `sh` blocks, in order, in one bash
 * with the built CLI as `mlmodel` on PATH and a fresh HOME. Checked: it
 * exits 0, and the outcomes the page states hold (the round trip gives the
 * same bytes, the forged bundle is refused and leaves no model, migrate and
 * the model store do what the page shows).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CLI } from '../support/cli-process.js';

it('docs/exchange.md runs as written', () => {
  const page = readFileSync(new URL('../../docs/exchange.md', import.meta.url), 'utf8');
  const blocks = [...page.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length).toBeGreaterThan(6);
  const root = mkdtempSync(join(tmpdir(), 'mlmodel-walkthrough-'));
  const bin = join(root, 'bin');
  spawnSync('mkdir', ['-p', bin, join(root, 'home')]);
  writeFileSync(join(bin, 'mlmodel'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'mlmodel'), 0o755);
  const r = spawnSync('bash', ['-eu', '-c', blocks.join('\n')], {
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: join(root, 'home'), TMPDIR: root, TZ: 'UTC' },
    encoding: 'utf8',
    // A hang bound: the page runs some forty CLI commands, each a fresh process (minutes on a loaded machine).
    timeout: 360_000,
  });
  expect(r.status, r.stderr).toBe(0);
  const out = r.stdout;
  expect(out).toMatch(/^manifest digest: [0-9a-f]{64}$/m);
  const digest = /^manifest digest: ([0-9a-f]{64})$/m.exec(out)![1]!;
  // The round trip: the second registry's bundle has the first one's manifest, and the same bytes.
  expect(out.split(digest).length).toBe(3);
  expect(out).toContain('the same bytes');
  expect(out).toMatch(/│ present │\s+2 │ already here with the same sha256 │/);
  expect(r.stderr).toMatch(/CHECKSUM_MISMATCH/);
  expect(out).toContain('exit status 1');
  expect(out).toMatch(/│ bob\s+│ mnist │ on\s+│/);
  expect(out).toMatch(/name: 'bob_mnist'\n\s+versions: 2\n/);
  expect(out).toMatch(/│ mnist │ bob\s+│\s+1 │ pushed │\s+1 │/);
  expect(out).toMatch(/│ imported │ mnist │\s+1 │\n└/);
  // Sync: pushed, then nothing moves; a conflict is a row and the rest travels; pulled by a condition.
  expect(out).toMatch(/│ present │\s+2 │ already there with the same sha256 │/);
  expect(out).toMatch(/│ conflict │\s+1 │ iris@1 is on the receiving side with sha256 [0-9a-f]{64}, the sending side's has [0-9a-f]{64} │\n│ copied {3}│\s+2 │/);
  expect(out.match(/│ copied │ mnist │\s+2 │[^\n]*\n└/g)).toHaveLength(2);
}, 400_000);
