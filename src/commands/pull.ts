import { lstat, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { defineCommand, type CommandAst } from './command.js';
import { extractArchive, type ManifestEntry } from '../archive/index.js';
import type { EngineContext } from '../engine/context.js';
import { withProgress } from '../engine/progress.js';
import { MlmodelError } from '../errors.js';
import { bytesCol, col, type ResultTable } from '../result/table.js';
import { checkLocalRoots, parsePathOption } from '../executor/location.js';
import { globMatcher, readManifest } from '../executor/manifest.js';
import { resolveModel } from '../executor/models.js';
import { optionValues } from '../executor/options.js';

const syntax = {
  keywords: ['pull'],
  args: [{ kind: 'model' }, { kind: 'options' }],
  options: {
    to: { type: 'path', required: true, summary: 'the local directory to unpack into (absolute)' },
    include: { type: 'string', summary: 'only paths matching this glob' },
    overwrite: { type: 'boolean', summary: 'replace files that exist (default false)' },
  },
} as const;

export type PullCommand = CommandAst<typeof syntax>;

export const PULL_COLUMNS = [col('path', 'TEXT'), bytesCol('size'), col('sha256', 'TEXT')];

/**
 * `mlmodel pull NAME[@V] to=DIR [include=…] [overwrite=true]`: the archive
 * unpacked into DIR through a private staging directory, every file checked
 * against the recorded manifest while it is written. Paths come from the
 * checked manifest, so none leads outside DIR; existing files stay unless
 * overwrite=true; on any failure DIR is left as it was.
 */
export async function executePull(ctx: EngineContext, cmd: PullCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  const overwrite = o.overwrite ?? false;
  const target = parsePathOption(o.to);
  if (target.kind !== 'file') throw new MlmodelError('INVALID_ARGUMENT', 'pull writes into a local directory: give to=/absolute/dir', { to: o.to });
  await checkLocalRoots(target.path, ctx.localRoots, o.to);
  const record = await resolveModel(ctx, cmd.model);
  const manifest = await readManifest(ctx, record.uid);
  const archive = async () =>
    withProgress(await ctx.objects.get(record.object_key), (done) => ctx.onProgress?.({ phase: 'pull', done, total: record.size }));

  let pulled: readonly ManifestEntry[];
  if (o.include === undefined) {
    const report = await extractArchive(await archive(), target.path, { manifest, overwrite, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    pulled = report.files;
  } else {
    const match = globMatcher(o.include);
    pulled = manifest.filter((e) => match(e.path));
    await pullSome(await archive(), target.path, manifest, pulled, overwrite, ctx.signal);
  }
  return { columns: PULL_COLUMNS, rows: pulled.map((f) => [join(target.path, f.path), f.size, f.sha256]) };
}

/** Unpacks everything into staging (checked against the manifest), then moves only the chosen files into place. */
async function pullSome(
  archive: NodeJS.ReadableStream,
  dest: string,
  manifest: readonly ManifestEntry[],
  chosen: readonly ManifestEntry[],
  overwrite: boolean,
  signal: AbortSignal | undefined,
): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const staging = await mkdtemp(join(dirname(dest), `.${basename(dest)}.pull-`));
  try {
    await extractArchive(archive as never, join(staging, 'tree'), { manifest, ...(signal ? { signal } : {}) });
    const clashes: string[] = [];
    for (const f of chosen) {
      await refuseLinks(dest, f.path);
      const existing = await lstat(join(dest, f.path)).catch(() => null);
      if (existing && (!overwrite || !existing.isFile())) clashes.push(f.path);
    }
    if (clashes.length > 0) {
      throw new MlmodelError('CONFLICT', `${clashes.slice(0, 5).join(', ')}${clashes.length > 5 ? ' …' : ''} already exist in ${dest}; add overwrite=true to replace files`, {
        files: clashes,
      });
    }
    for (const f of chosen) {
      const to = join(dest, f.path);
      await mkdir(dirname(to), { recursive: true });
      await rename(join(staging, 'tree', f.path), to);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** No directory on the way to a file inside dest may be a link (it could lead outside) or a file. */
async function refuseLinks(dest: string, path: string): Promise<void> {
  let dir = dest;
  for (const part of path.split('/').slice(0, -1)) {
    dir = join(dir, part);
    const st = await lstat(dir).catch(() => null);
    if (st && !st.isDirectory()) {
      throw new MlmodelError('CONFLICT', `${dir} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'}; pull will not write through it`, { path: dir });
    }
  }
}

export const pullCommand = defineCommand({
  syntax,
  summary: "Unpacks a version's files into a local directory, checking each file's digest.",
  examples: ['mlmodel pull mnist_v1 to=/tmp/mnist', "mlmodel pull mnist_v1@2 to=/tmp/mnist include='*.pb' overwrite=true"],
  columns: PULL_COLUMNS,
  // It writes files into a local directory.
  writes: true,
  execute: executePull,
});
