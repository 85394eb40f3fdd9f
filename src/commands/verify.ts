import { defineCommand, type CommandAst } from './command.js';
import { inspectArchive, type ManifestEntry } from '../archive/index.js';
import type { EngineContext } from '../engine/context.js';
import { withProgress } from '../engine/progress.js';
import { isMlmodelError, MlmodelError } from '../errors.js';
import { bytesCol, col, type ResultTable } from '../result/table.js';
import type { ModelRecord } from '../store/metadata.js';
import { readManifest } from '../executor/manifest.js';
import { resolveModel } from '../executor/models.js';

const syntax = { keywords: ['verify'], args: [{ kind: 'model' }] } as const;

export type VerifyCommand = CommandAst<typeof syntax>;

export const VERIFY_COLUMNS = [col('name', 'TEXT'), col('version', 'LONG'), col('files', 'LONG'), bytesCol('size'), col('sha256', 'TEXT'), col('result', 'TEXT')];

/**
 * `mlmodel verify NAME[@V]`: reads the stored archive again, through the same
 * inspection as import, and compares it with the record (size, sha256) and
 * the recorded manifest (every file's path, size and sha256). Any difference
 * fails the query with CHECKSUM_MISMATCH, naming what differs.
 */
export async function executeVerify(ctx: EngineContext, cmd: VerifyCommand): Promise<ResultTable> {
  const record = await resolveModel(ctx, cmd.model);
  const problems = await verifyRecord(ctx, record);
  if (problems.length > 0) {
    throw new MlmodelError('CHECKSUM_MISMATCH', `${record.name}@${record.version} is damaged: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`, {
      problems,
    });
  }
  const manifest = await readManifest(ctx, record.uid);
  return { columns: VERIFY_COLUMNS, rows: [[record.name, record.version, manifest.length, record.size, record.sha256, 'ok']] };
}

/** What is wrong with a stored version, or nothing. Shared with fsck. */
export async function verifyRecord(ctx: EngineContext, record: ModelRecord): Promise<string[]> {
  const info = await ctx.objects.stat(record.object_key);
  if (!info) return ['its archive is missing from the object store'];
  let recorded: ManifestEntry[];
  try {
    recorded = await readManifest(ctx, record.uid);
  } catch (e) {
    if (isMlmodelError(e, 'OBJECT_NOT_FOUND')) return ['its manifest is missing from the object store'];
    throw e;
  }
  const source = withProgress(await ctx.objects.get(record.object_key), (done) => ctx.onProgress?.({ phase: 'verify', done, total: record.size }));
  const { passthrough, result } = inspectArchive(source as never, { type: record.type, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  passthrough.on('error', () => undefined);
  passthrough.resume();
  let report;
  try {
    report = await result;
  } catch (e) {
    if (isMlmodelError(e, 'ARCHIVE_INVALID')) return [`the stored archive no longer passes inspection: ${e.message}`];
    throw e;
  }
  const problems: string[] = [];
  if (report.size !== record.size) problems.push(`archive size ${report.size}, recorded ${record.size}`);
  if (report.sha256 !== record.sha256) problems.push(`archive sha256 ${report.sha256}, recorded ${record.sha256}`);
  const actual = new Map(report.manifest.map((e) => [e.path, e]));
  for (const want of recorded) {
    const got = actual.get(want.path);
    if (!got) problems.push(`${want.path} is missing`);
    else if (got.sha256 !== want.sha256 || got.size !== want.size) problems.push(`${want.path} differs (sha256 ${got.sha256}, recorded ${want.sha256})`);
    actual.delete(want.path);
  }
  for (const extra of actual.keys()) problems.push(`${extra} is not in the manifest`);
  return problems;
}

export const verifyCommand = defineCommand({
  syntax,
  summary: "Reads a version's stored archive again and checks its size, sha256 and every file against what was recorded at import.",
  examples: ['mlmodel verify mnist_v1', 'mlmodel verify mnist_v1@2'],
  columns: VERIFY_COLUMNS,
  writes: false,
  execute: executeVerify,
});
