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
  const concurrency = opts.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new MlmodelError('INVALID_ARGUMENT', 'import batch concurrency must be a positive integer');
  const stager = stageAll(ctx, items, concurrency, opts.stopAtError);
  const staged: StageResult[] = items.map(() => ({ notRun: true }));
  const outcomes: BatchOutcome[] = new Array<BatchOutcome>(items.length).fill({ skipped: true });
  let stopped = false;
  const committed: number[] = [];
  // Inside the embedded store's batch transaction no other process can write,
  // so a model lock another process holds cannot be released until the batch
  // ends: such an import fails at once (CONFLICT) instead of waiting for it.
  // Other stores run the group as plain calls, and wait for the lock as usual.
  const lockWait = ctx.meta.kind === 'sqlite' ? { lockWaitMs: 0 } : {};
  try {
    // Records are written in statement order as soon as each archive is
    // stored, while later archives are still streaming: the metadata work on
    // the main thread overlaps the object flushes in the thread pool.
    await ctx.meta.group(async () => {
      for (let i = 0; i < items.length; i++) {
        const s = (staged[i] = await stager.results[i]!);
        if (stopped) continue;
        if ('error' in s) {
          outcomes[i] = { error: s.error };
          stopped = opts.stopAtError;
          if (stopped) stager.stop(i);
          continue;
        }
        if (!('staged' in s)) continue;
        try {
          const table = await ctx.meta.group(() => commitImport(ctx, s.staged, lockWait));
          outcomes[i] = { table };
          committed.push(i);
        } catch (e) {
          // commitImport removed the objects; its savepoint undid its claims.
          outcomes[i] = { error: e };
          stopped = opts.stopAtError;
          if (stopped) stager.stop(i);
        }
      }
    });
  } catch (e) {
    // The group's commit failed: nothing of this batch is registered.
    await stager.done;
    for (const i of committed) {
      const s = staged[i]!;
      if ('staged' in s) await discardImport(ctx, s.staged);
      outcomes[i] = { error: e };
    }
  }
  // Imports staged after the batch stopped are discarded: their objects go, no record was written.
  await stager.done;
  for (let i = 0; i < items.length; i++) {
    const s = await stager.results[i]!;
    if ('staged' in s && 'skipped' in outcomes[i]!) await discardImport(ctx, s.staged);
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

/**
 * Stages the imports `concurrency` at a time, in order; each result settles
 * on its own. With stopAtError none after the first failing one starts, and
 * `stop(i)` (the commit loop's failure) keeps any after i from starting.
 */
function stageAll(
  ctx: EngineContext,
  items: readonly BatchImport[],
  concurrency: number,
  stopAtError: boolean,
): { results: Promise<StageResult>[]; done: Promise<void>; stop(i: number): void } {
  const settle: Array<(r: StageResult) => void> = [];
  const results = items.map(() => new Promise<StageResult>((resolve) => settle.push(resolve)));
  // Each import in flight listens for cancellation on the one signal.
  if (ctx.signal) setMaxListeners(concurrency + 16, ctx.signal);
  let next = 0;
  let limit = Infinity;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      if (i > limit) {
        settle[i]!({ notRun: true });
        continue;
      }
      try {
        settle[i]!({ staged: await stageImport(ctx, items[i]!.command, { checkTypeFirst: false }) });
      } catch (e) {
        settle[i]!({ error: e });
        if (stopAtError) limit = Math.min(limit, i);
      }
    }
  };
  const done = Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker)).then(() => undefined);
  return {
    results,
    done,
    stop(i) {
      limit = Math.min(limit, i);
    },
  };
}
