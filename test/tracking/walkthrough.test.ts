/**
 * docs/tracking.md's walk-through runs as written: its `sh` blocks, in
 * order, in one bash with the built CLI as `mlmodel` on PATH and a fresh
 * HOME, and every `text` block after one is exactly what that block printed
 * (each block's output is cut out by a marker line the test echoes after it).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { CLI } from '../support/cli-process.js';

it('docs/tracking.md\'s walk-through runs as written and prints what the page shows', () => {
  const page = readFileSync(new URL('../../docs/tracking.md', import.meta.url), 'utf8');
  const section = page.slice(page.indexOf('## A walk-through'), page.indexOf('\n## Rules'));
  // Each sh block, with the text block that follows it (before the next sh block), if any.
  const steps = [...section.matchAll(/```sh\n([\s\S]*?)```((?:(?!```sh)[\s\S])*?)(?=```sh|$)/g)].map((m) => ({
    script: m[1]!,
    shown: /```text\n([\s\S]*?)```/.exec(m[2]!)?.[1] ?? null,
  }));
  expect(steps.length).toBeGreaterThan(8);
  expect(steps.filter((s) => s.shown !== null).length).toBeGreaterThan(6);
  const root = mkdtempSync(join(tmpdir(), 'mlmodel-tracking-walkthrough-'));
  const bin = join(root, 'bin');
  spawnSync('mkdir', ['-p', bin, join(root, 'home')]);
  writeFileSync(join(bin, 'mlmodel'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'mlmodel'), 0o755);
  const marker = (i: number) => `@@ block ${i} done @@`;
  const r = spawnSync('bash', ['-eu', '-c', steps.map((s, i) => `${s.script}echo '${marker(i)}'\n`).join('')], {
    env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: join(root, 'home'), TMPDIR: root, TZ: 'UTC' },
    encoding: 'utf8',
    // A hang bound: some twenty CLI processes, each a fresh node (a minute on a loaded machine).
    timeout: 300_000,
  });
  expect(r.status, r.stderr).toBe(0);
  let rest = r.stdout;
  steps.forEach((s, i) => {
    const at = rest.indexOf(`${marker(i)}\n`);
    expect(at, `block ${i} ran`).toBeGreaterThanOrEqual(0);
    const printed = rest.slice(0, at);
    rest = rest.slice(at + marker(i).length + 1);
    if (s.shown !== null) expect(printed, s.script).toBe(s.shown);
  });
}, 320_000);
