import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractArchive, type ManifestEntry } from '../../src/archive/index.js';
import { MlmodelError } from '../../src/errors.js';
import { inspect } from './run.js';
import { chunked, dir, file, header, sha256, tar } from './tar-writer.js';

const big = Buffer.alloc(300_000, 9);
const model = tar(
  dir('export/'),
  dir('export/1/'),
  file('export/1/saved_model.pb', 'graph-def'),
  dir('export/1/variables/'),
  file('export/1/variables/variables.data-00000-of-00001', big),
  dir('export/1/assets/'),
);

let work: string;
let dest: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'mlmodel-extract-'));
  dest = join(work, 'serving', 'model', '1');
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** Everything under `root`, as relative paths, to prove nothing else changed. */
function tree(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      out.push(e.isDirectory() ? `${r}/` : r);
      if (e.isDirectory()) walk(join(d, e.name), r);
    }
  };
  walk(root, '');
  return out.sort();
}

async function failure(p: Promise<unknown>): Promise<MlmodelError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(MlmodelError);
  return e as MlmodelError;
}

describe('extractArchive', () => {
  it('extracts a gzip archive, verifying it against the manifest recorded at import', async () => {
    const input = gzipSync(model);
    const { report } = await inspect(input, { type: 'tf' });
    const res = await extractArchive(chunked(input, 5000), dest, { type: 'tf', manifest: report.manifest });
    expect(res.files).toEqual(report.manifest);
    expect(res.sha256).toBe(report.sha256);
    expect(readFileSync(join(dest, 'export/1/saved_model.pb'), 'utf8')).toBe('graph-def');
    expect(sha256(readFileSync(join(dest, 'export/1/variables/variables.data-00000-of-00001')))).toBe(sha256(big));
    expect(statSync(join(dest, 'export/1/assets')).isDirectory()).toBe(true);
    // No staging directory left beside destDir.
    expect(readdirSync(join(work, 'serving', 'model'))).toEqual(['1']);
  });

  it('writes into a private 0700 staging directory next to destDir, and removes it afterwards', async () => {
    const source = new PassThrough();
    const done = extractArchive(source, dest);
    source.write(model.subarray(0, 2048));
    const parent = join(work, 'serving', 'model');
    // Wait for the staging directory rather than a fixed time: a loaded machine may be slow to make it.
    let staging: string[] = [];
    for (let waited = 0; staging.length === 0 && waited < 5000; waited += 10) {
      await sleep(10);
      staging = existsSync(parent) ? readdirSync(parent).filter((n) => n.startsWith('.1.extract-')) : [];
    }
    expect(staging).toHaveLength(1);
    expect(statSync(join(parent, staging[0]!)).mode & 0o777).toBe(0o700);
    expect(existsSync(dest)).toBe(false);
    source.end(model.subarray(2048));
    await done;
    expect(readdirSync(parent)).toEqual(['1']);
  });

  it('refuses a sha256 mismatch and leaves destDir absent', async () => {
    const { report } = await inspect(model, { type: 'tf' });
    const tampered: ManifestEntry[] = report.manifest.map((m) => (m.path.endsWith('.pb') ? { ...m, sha256: '0'.repeat(64) } : m));
    const err = await failure(extractArchive(chunked(model), dest, { manifest: tampered }));
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(err.details['entry']).toBe('export/1/saved_model.pb');
    expect(tree(work)).toEqual([]);
  });

  it('refuses files the manifest lacks, and manifest files the archive lacks', async () => {
    const { report } = await inspect(model, { type: 'tf' });
    const fewer = report.manifest.slice(1);
    const e1 = await failure(extractArchive(chunked(model), dest, { manifest: fewer }));
    expect(e1.details).toMatchObject({ reason: 'manifest-mismatch', entry: 'export/1/saved_model.pb' });
    const more = [...report.manifest, { path: 'export/1/extra', size: 1, mtime: report.manifest[0]!.mtime, sha256: sha256('x') }];
    const e2 = await failure(extractArchive(chunked(model), dest, { manifest: more }));
    expect(e2.details).toMatchObject({ reason: 'manifest-mismatch', missing: ['export/1/extra'] });
    expect(tree(work)).toEqual([]);
  });

  const escapes: Array<[string, Buffer, string]> = [
    ['.. traversal', tar(file('ok', 'x'), file('../../../escaped', 'pwned')), 'parent-traversal'],
    ['absolute path', tar(file('ok', 'x'), file(`${tmpdir()}/escaped`, 'pwned')), 'absolute-path'],
    ['symlink then write through it', tar(header({ name: 'link', type: '2', linkname: '/tmp' }), file('link/escaped', 'pwned')), 'link'],
    ['hardlink', tar(file('ok', 'x'), header({ name: 'h', type: '1', linkname: '/etc/passwd' })), 'link'],
  ];
  for (const [what, input, reason] of escapes) {
    it(`refuses ${what}, writing nothing anywhere`, async () => {
      const err = await failure(extractArchive(chunked(input), dest));
      expect(err.details['reason']).toBe(reason);
      expect(tree(work)).toEqual([]);
      expect(existsSync(join(tmpdir(), 'escaped'))).toBe(false);
    });
  }

  it('leaves an existing destDir exactly as it was when the archive fails part-way', async () => {
    mkdirSync(dest, { recursive: true });
    writeFileSync(join(dest, 'keep.txt'), 'mine');
    const before = tree(work);
    // Two good files are written to staging before the truncation is found.
    const err = await failure(extractArchive(chunked(model.subarray(0, model.length - 1500)), dest));
    expect(err.details['reason']).toBe('truncated');
    expect(tree(work)).toEqual(before);
    expect(readFileSync(join(dest, 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('does not overwrite existing files unless asked, and changes nothing on conflict', async () => {
    mkdirSync(join(dest, 'export/1'), { recursive: true });
    writeFileSync(join(dest, 'export/1/saved_model.pb'), 'old');
    const before = tree(work);
    const err = await failure(extractArchive(chunked(model), dest));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toContain('export/1/saved_model.pb');
    expect(tree(work)).toEqual(before);
    expect(readFileSync(join(dest, 'export/1/saved_model.pb'), 'utf8')).toBe('old');

    await extractArchive(chunked(model), dest, { overwrite: true });
    expect(readFileSync(join(dest, 'export/1/saved_model.pb'), 'utf8')).toBe('graph-def');
    expect(readdirSync(join(work, 'serving', 'model'))).toEqual(['1']);
  });

  it('refuses to write through a symlink that already sits in destDir', async () => {
    const outside = join(work, 'outside');
    mkdirSync(outside);
    mkdirSync(dest, { recursive: true });
    symlinkSync(outside, join(dest, 'export'));
    const err = await failure(extractArchive(chunked(model), dest));
    expect(err.code).toBe('CONFLICT');
    expect(err.message).toMatch(/"export" is a symbolic link/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('applies the type requirement when a type is given', async () => {
    const err = await failure(extractArchive(chunked(tar(file('model.h4', 'x'))), dest, { type: 'tf' }));
    expect(err.details['reason']).toBe('missing-required');
    expect(tree(work)).toEqual([]);
  });

  it('cancels on abort and cleans up', async () => {
    const source = new PassThrough();
    const ac = new AbortController();
    const done = extractArchive(source, dest, { signal: ac.signal });
    source.write(model.subarray(0, 4096));
    await sleep(20);
    ac.abort();
    const err = await failure(done);
    expect(err.code).toBe('CANCELLED');
    expect(tree(work)).toEqual([]);
  });

  it('reports a failing source as STORE_UNAVAILABLE and cleans up', async () => {
    const source = new Readable({ read() {} });
    const done = extractArchive(source, dest);
    source.push(model.subarray(0, 4096));
    setTimeout(() => source.destroy(new Error('EIO: disk on fire')), 10);
    const err = await failure(done);
    expect(err.code).toBe('STORE_UNAVAILABLE');
    expect(tree(work)).toEqual([]);
  });
});
