import { setMaxListeners } from 'node:events';
import type { Stage } from '../../grammar/ast.js';
import type { ImportCommand } from '../commands/import.js';
import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import type { ResultTable } from '../result/table.js';
import { applyStages } from '../stage/index.js';
import { discardImport, registerStaged, stageImport, type StagedImport } from '../commands/import.js';

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
 * A group's transaction ends after this many imports or this many
 * milliseconds, whichever comes first: another process's write waits for the
 * write lock at most about this long between two groups.
 */
const GROUP_MAX_IMPORTS = 256;
const GROUP_MAX_MS = 50;
/**
 * How long the next group waits, holding no lock, for more archives to be
 * stored after the first one is: each group is one fsync, and without the
 * wait big archives would commit one by one.
 */
const GATHER_MS = 250;

/**
 * Many imports as one batch, with the same outcome as running them one after
 * another, in fewer disk flushes:
 *
 * 1. every archive is streamed through inspection into the object store,
 *    `concurrency` at a time (each object is flushed to disk on its own, and
 *    concurrent flushes share the file system's journal commits);
 * 2. meanwhile, in statement order, each import claims its version and id
 *    and writes its record, in short metadata groups: a group takes the
 *    imports whose archives are already stored (at most GROUP_MAX_IMPORTS,
 *    for at most GROUP_MAX_MS), so the embedded store makes one durable
 *    commit per group (each import in its own savepoint, undone alone when
 *    it fails). A transaction never waits for archive I/O: the wait for the
 *    next archive comes between groups, with no lock held, and other
 *    processes' writes get the lock there.
 *
 * docs/reliability.md holds for each import: no record is written before its object
 * is complete, numbers are claimed under unique indexes, and a failed
 * import's objects are removed. No result is returned before its group's
 * commit, so an `ok` is durable when it is seen; a group whose commit fails
 * registers none of its imports (earlier groups stay registered). With
 * `stopAtError`, imports after the first failure are discarded (objects
 * removed, nothing registered) and come back as `skipped`, as if the batch
 * had stopped there.
 */
export async function executeImportBatch(ctx: EngineContext, items: readonly BatchImport[], opts: ImportBatchOptions): Promise<BatchOutcome[]> {
  const concurrency = opts.concurrency ?? 16;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new MlmodelError('INVALID_ARGUMENT', 'import batch concurrency must be a positive integer');
  const stager = stageAll(ctx, items, concurrency, opts.stopAtError);
  const outcomes: BatchOutcome[] = new Array<BatchOutcome>(items.length).fill({ skipped: true });
  let stopped = false;
  const fail = (i: number, error: unknown) => {
    outcomes[i] = { error };
    if (opts.stopAtError && !stopped) {
      stopped = true;
      stager.stop(i);
    }
  };
  // Inside the embedded store's group transaction no other process can write,
  // so a model lock another process holds cannot be released until the group
  // ends: such an import fails at once (CONFLICT) instead of waiting for it.
  // Other stores run the group as plain calls, and wait for the lock as usual.
  const lockWait = ctx.meta.kind === 'sqlite' ? { lockWaitMs: 0 } : {};
  let next = 0;
  while (next < items.length && !stopped) {
    // The wait for the next archives (as long as the archives are big) holds no lock.
    await gather(stager, next, items.length);
    const started = Date.now();
    const first = next;
    /** Registered in this group's transaction: durable once it commits. */
    const registered: number[] = [];
    /** Failed in their savepoint, or undone with the group: their objects go once the transaction is over. */
    const undone: number[] = [];
    try {
      await ctx.meta.group(async () => {
        for (let n = 0; next < items.length && !stopped; next++, n++) {
          if (n > 0 && (n >= GROUP_MAX_IMPORTS || Date.now() - started >= GROUP_MAX_MS)) break;
          // Only archives already stored join the group.
          const s = stager.settled(next);
          if (!s) break;
          if ('error' in s) {
            fail(next, s.error);
            continue;
          }
          if (!('staged' in s)) continue;
          try {
            outcomes[next] = { table: await ctx.meta.group(() => registerStaged(ctx, s.staged, lockWait)) };
            registered.push(next);
          } catch (e) {
            // Its savepoint undid its claims; its objects go after the transaction.
            undone.push(next);
            fail(next, e);
          }
        }
      });
    } catch (e) {
      // The group's commit failed: none of its imports is registered.
      for (const i of registered) {
        undone.push(i);
        fail(i, e);
      }
      // It never began (the write lock stayed busy past the deadline): the
      // import it was for fails, or the batch would try again forever.
      if (next === first) {
        undone.push(next);
        fail(next, e);
        next++;
      }
    }
    for (const i of undone) {
      const s = stager.settled(i);
      if (s && 'staged' in s) await discardImport(ctx, s.staged);
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
      // No signal: the import is committed, and its result must say so.
      outcomes[i] = { table: await applyStages(o.table, items[i]!.stages) };
    } catch (e) {
      outcomes[i] = { error: e };
    }
  }
  return outcomes;
}

/**
 * Resolves once the import at `from` is staged and then either
 * GROUP_MAX_IMPORTS in a row are, every remaining one is, or GATHER_MS have
 * passed since it was.
 */
async function gather(stager: ReturnType<typeof stageAll>, from: number, end: number): Promise<void> {
  await stager.results[from];
  const deadline = Date.now() + GATHER_MS;
  for (;;) {
    let i = from;
    while (i < end && i - from < GROUP_MAX_IMPORTS && stager.settled(i)) i++;
    const left = deadline - Date.now();
    if (i === end || i - from >= GROUP_MAX_IMPORTS || left <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stager.results[i], new Promise((r) => (timer = setTimeout(r, left)))]);
    clearTimeout(timer);
  }
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
): { results: Promise<StageResult>[]; settled(i: number): StageResult | undefined; done: Promise<void>; stop(i: number): void } {
  const settle: Array<(r: StageResult) => void> = [];
  /** Each result as soon as it is known, so a group can take what is ready without waiting. */
  const ready: Array<StageResult | undefined> = items.map(() => undefined);
  const results = items.map(
    (_, i) =>
      new Promise<StageResult>((resolve) =>
        settle.push((r) => {
          ready[i] = r;
          resolve(r);
        }),
      ),
  );
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
    settled: (i) => ready[i],
    done,
    stop(i) {
      limit = Math.min(limit, i);
    },
  };
}
