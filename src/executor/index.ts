import type { EngineContext } from '../engine/context.js';
import { MlmodelError } from '../errors.js';
import { commandModule } from '../language.js';
import type { Plan } from '../planner/plan.js';
import type { QueryResult, ResultTable } from '../result/table.js';
import { applyStages } from '../stage/index.js';

/** Runs a planned query: its command (with what the store can do pushed down), then the remaining stages. */
export async function executePlan(ctx: EngineContext, plan: Plan): Promise<ResultTable> {
  const module = commandModule(plan.command.kind);
  if (module === undefined) throw new MlmodelError('INVALID_ARGUMENT', `there is no command ${plan.command.kind}`, { kind: plan.command.kind });
  const table = await module.execute(ctx, plan.command as never, { pushed: plan.pushed, runs: plan.runs ?? null });
  const staged = await applyStages(table, plan.stages, ctx.signal);
  // The findings are the command's, not of the rows a stage kept.
  return table.findings && staged !== table ? { ...staged, findings: table.findings } : staged;
}

/**
 * executePlan for a caller that takes streams: a command that streams (its
 * module's `stream`) answers with its rows read a page at a time; any other
 * with its whole table, as executePlan gives it. A streaming command's
 * stages all run over its records (a list's), so none is left here.
 */
export async function executePlanStreamed(ctx: EngineContext, plan: Plan): Promise<QueryResult> {
  const module = commandModule(plan.command.kind);
  if (module?.stream === undefined || plan.stages.length > 0) return executePlan(ctx, plan);
  return module.stream(ctx, plan.command as never, { pushed: plan.pushed, runs: plan.runs ?? null });
}
