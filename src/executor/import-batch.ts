import { setMaxListeners } from 'node:events';
import type { ImportCommand, Stage } from '../../grammar/ast.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import type { ResultTable } from '../result/table.js';
import { applyStages } from '../stage/index.js';
import { commitImport, discardImport, stageImport, type StagedImport } from './import.js';

/** One import of a batch: the command and the stages that follow it (`| fields result`, …). */
export interface BatchImport {
  readonly command: ImportCommand;
  readonly stages: readonly Stage[];
}

/** What became of one import of a batch: its table, its error, or `skipped` after an earlier failure. */
export type BatchOutcome = { readonly table: ResultTable } | { readonly error: unknown } | { readonly skipped: true };

export interface ImportBatchOptions {
  /** Stop at the first failure (as a batch without --continue-on-error does): later imports are not registered. */
  readonly stopAtError: boolean;
  /** Archives read, checked and stored at the same time (default 16). */
  readonly concurrency?: number;
}

/**
 * Many imports as one batch, with the same outcome as running them one after
 * another, in fewer disk flushes:
 *
 * 1. every archive is streamed through inspection into the object store,
 *    `concurrency` at a time (each object is flushed to disk on its own, and
 *    concurrent flushes share the file system's journal commits);
 * 2. then, in statement order, each import claims its version and id and
 *    writes its record — all of them inside one metadata group, so the
 *    embedded store makes one durable commit for the batch (each import in
 *    its own savepoint, undone alone when it fails).
 *
 * DESIGN §6 holds for each import: no record is written before its object
 * is complete, numbers are claimed under unique indexes, and a failed
 * import's objects are removed. No result is returned before the commit, so
 * an `ok` is durable when it is seen. With `stopAtError`, imports after the
 * first failure are discarded (objects removed, nothing registered) and come
 * back as `skipped`, as if the batch had stopped there.
 */
export async function executeImportBatch(ctx: EngineContext, items: readonly BatchImport[], opts: ImportBatchOptions): Promise<BatchOutcome[]> {
  const staged = await stageAll(ctx, items, opts.concurrency ?? 16, opts.stopAtError);
  const outcomes: BatchOutcome[] = new Array<BatchOutcome>(items.length).fill({ skipped: true });
  let stopped = false;
  const committed: number[] = [];
  try {
    await ctx.meta.group(async () => {
      for (let i = 0; i < items.length; i++) {
        const s = staged[i]!;
        if (stopped) {
          if ('staged' in s) await discardImport(ctx, s.staged);
          continue;
        }
        if ('error' in s) {
          outcomes[i] = { error: s.error };
          stopped = opts.stopAtError;
          continue;
        }
        if (!('staged' in s)) continue;
        try {
          const table = await ctx.meta.group(() => commitImport(ctx, s.staged));
          outcomes[i] = { table };
          committed.push(i);
        } catch (e) {
          // commitImport removed the objects; its savepoint undid its claims.
          outcomes[i] = { error: e };
          stopped = opts.stopAtError;
        }
      }
    });
  } catch (e) {
    // The group's commit failed: nothing of this batch is registered.
    for (const i of committed) {
      const s = staged[i]!;
      if ('staged' in s) await discardImport(ctx, s.staged);
      outcomes[i] = { error: e };
    }
  }
  // Stages after an import (`| fields result`) run on the committed result.
  for (let i = 0; i < items.length; i++) {
    const o = outcomes[i]!;
    if (!('table' in o) || items[i]!.stages.length === 0) continue;
    try {
      outcomes[i] = { table: applyStages(o.table, items[i]!.stages) };
    } catch (e) {
      outcomes[i] = { error: e };
    }
  }
  return outcomes;
}

type StageResult = { staged: StagedImport } | { error: unknown } | { notRun: true };

/** Stages the imports `concurrency` at a time; with stopAtError, none after the first failing one starts. */
async function stageAll(ctx: EngineContext, items: readonly BatchImport[], concurrency: number, stopAtError: boolean): Promise<StageResult[]> {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new MlmodelError('INVALID_ARGUMENT', 'import batch concurrency must be a positive integer');
  const results: StageResult[] = items.map(() => ({ notRun: true }));
  // Each import in flight listens for cancellation on the one signal.
  if (ctx.signal) setMaxListeners(concurrency + 16, ctx.signal);
  let next = 0;
  let firstFailure = Infinity;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length || (stopAtError && i > firstFailure)) return;
      try {
        results[i] = { staged: await stageImport(ctx, items[i]!.command) };
      } catch (e) {
        results[i] = { error: e };
        firstFailure = Math.min(firstFailure, i);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
