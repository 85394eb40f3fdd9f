import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openRegistry, type Registry } from '../../src/engine/registry.js';
import { isMlmodelError } from '../../src/errors.js';
import { file, tar } from '../archive/tar-writer.js';

/**
 * Issue 9.5, last sentence: a full disk under the embedded store (SQLite
 * file and object directory) leaves the registry readable. The home lives on
 * a 4 MiB tmpfs mounted for the test (this machine's tests run as root); the
 * archives come from outside it.
 */
let root: string;
let mnt: string;
let mounted = false;
let reg: Registry;

function tryMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mlmodel-fulldisk-'));
  mnt = join(root, 'disk');
  await mkdir(mnt);
  mounted = tryMount(mnt);
  if (!mounted) {
    if (process.env.CI === 'true') throw new Error('cannot mount a tmpfs (not root?): the full-disk test needs one');
    process.stderr.write('\n[full-disk] SKIPPING: cannot mount a tmpfs here (not root?)\n');
    return;
  }
  reg = await openRegistry({ config: loadConfig({ HOME: root, MLMODEL_HOME: join(mnt, 'home'), MLMODEL_USER: 'root' }) });
});

afterAll(async () => {
  await reg?.close();
  if (mounted) execFileSync('umount', ['-l', mnt]);
  await rm(root, { recursive: true, force: true });
});

describe('a full disk under the embedded store', () => {
  it('refuses what does not fit, cleanly, and stays readable; frees up and goes on', async (ctx) => {
    if (!mounted) ctx.skip();
    const small = join(root, 'small.tar');
    await writeFile(small, tar(file('saved_model.pb', 'graph'), file('variables/variables.index', randomBytes(100_000))));
    expect((await reg.run(`mlmodel import name=keep type=tf path=${small}`)).rows[0]![0]).toBe('ok');
    await reg.run('mlmodel tag keep before');

    // An archive bigger than the disk: refused with a clear error, nothing half-written stays.
    const big = join(root, 'big.tar');
    await writeFile(big, tar(file('saved_model.pb', 'graph'), file('variables/variables.data-00000-of-00001', randomBytes(6 * 1024 * 1024))));
    const e = await reg.run(`mlmodel import name=big type=tf path=${big}`).catch((x: unknown) => x);
    expect(isMlmodelError(e), String(e)).toBe(true);
    expect(String((e as Error).message)).toMatch(/ENOSPC|no space|full/i);

    // Fill what is left, then every kind of write fails cleanly.
    const st = await statfs(mnt);
    await writeFile(join(mnt, 'filler'), Buffer.alloc(Math.max(0, Number(st.bavail) * Number(st.bsize) - 4096))).catch(() => undefined);
    await writeFile(join(mnt, 'filler2'), Buffer.alloc(64 * 1024)).catch(() => undefined);
    const writes = [`mlmodel import name=other type=tf path=${small}`, 'mlmodel deploy keep', 'mlmodel tag keep during'];
    let refusedWrites = 0;
    for (const q of writes) {
      const r = await reg.run(q).catch((x: unknown) => x);
      if (r instanceof Error) {
        expect(isMlmodelError(r), `${q}: ${String(r)}`).toBe(true);
        refusedWrites++;
      }
    }
    expect(refusedWrites).toBeGreaterThan(0);

    // Still readable, and what was there is intact.
    expect((await reg.run('mlmodel list')).rows.map((r) => r[2])).toContain('keep');
    expect((await reg.run('mlmodel summary keep tags')).rows[0]![1]).toMatch(/before/);
    expect((await reg.run('mlmodel verify keep')).rows[0]!.at(-1)).toBe('ok');
    expect((await reg.run('mlmodel versions keep')).rows).toHaveLength(1);

    // Space again: fsck finds no damaged record, repairs what the failures left, and work goes on.
    await rm(join(mnt, 'filler'), { force: true });
    await rm(join(mnt, 'filler2'), { force: true });
    const fsck = await reg.run('mlmodel fsck grace=0');
    expect(fsck.rows.filter((r) => r[0] === 'archive'), JSON.stringify(fsck.rows)).toEqual([]);
    await reg.run('mlmodel fsck repair=true grace=0');
    expect((await reg.run('mlmodel fsck grace=0')).rows).toEqual([]);
    expect((await reg.run(`mlmodel import name=after type=tf path=${small}`)).rows[0]![0]).toBe('ok');
    console.log(`full disk: 4 MiB tmpfs; big import refused (${(e as Error).message.slice(0, 120)}); ${refusedWrites}/${writes.length} writes refused when full; fsck before repair: ${JSON.stringify(fsck.rows.map((r) => r[0]))}`);
  }, 120_000);
});
