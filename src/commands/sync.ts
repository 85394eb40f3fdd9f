import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { isMlmodelError, MlmodelError } from '../errors.js';
import { resolveModel, parseModelRefText } from '../executor/models.js';
import { optionValues } from '../executor/options.js';
import { listFilter } from '../planner/listing.js';
import { planQuery } from '../planner/plan.js';
import type { ResultTable } from '../result/table.js';
import { F } from '../store/filter.js';
import { SYNC_COLUMNS, syncModels, type SyncItem } from '../exchange/sync.js';

const syntax = {
  keywords: ['sync'],
  args: [{ kind: 'names', field: 'models', label: 'a model (name, name@version or name@alias)', optional: true }, { kind: 'options' }],
  options: {
    to: { type: 'string', summary: 'push: the configured registry (config registries:) that receives the versions it lacks' },
    from: { type: 'string', summary: 'pull: the configured registry whose versions this one receives' },
    where: { type: 'string', summary: "every model of yours matching a list condition, on the sending side (e.g. where=\"type = tf and name like 'mnist%'\")" },
  },
} as const;

export type SyncCommand = CommandAst<typeof syntax>;

/**
 * `mlmodel sync NAME[@V], … to=REMOTE` (or `from=REMOTE`, or `where=COND`
 * instead of names): the versions the receiving registry lacks travel, each
 * checked by sha256 and published as an unbundle publishes; versions it has
 * with the same sha256 stay as they are; one it has with other bytes is a
 * conflict row, never overwritten (docs/exchange.md).
 */
export async function executeSync(ctx: EngineContext, cmd: SyncCommand): Promise<ResultTable> {
  const o = optionValues(syntax, cmd.options);
  if ((o.to === undefined) === (o.from === undefined)) {
    throw new MlmodelError('INVALID_ARGUMENT', 'give to=REMOTE (push) or from=REMOTE (pull), one of them');
  }
  const names = cmd.models ?? [];
  if ((names.length > 0) === (o.where !== undefined)) {
    throw new MlmodelError('INVALID_ARGUMENT', names.length > 0 ? 'name the models or give where=…, not both' : "name the models to sync, or give where=… (where=\"name like '%'\" takes every model of yours)");
  }
  if (!ctx.remote) throw new MlmodelError('INVALID_ARGUMENT', 'no remote registry can be reached from here');
  const remote = await ctx.remote((o.to ?? o.from)!);
  const [from, to] = o.to !== undefined ? [ctx, remote] : [remote, ctx];
  const items = o.where !== undefined ? await matching(from, o.where) : await named(from, names);
  return { columns: SYNC_COLUMNS, rows: await syncModels(from, to, items) };
}

/** The models named, on the sending side: the current user's own, every version unless one is named. */
async function named(from: EngineContext, names: readonly string[]): Promise<SyncItem[]> {
  const items = new Map<string, SyncItem>();
  for (const text of names) {
    const ref = parseModelRefText(text);
    if (ref.name.includes('/')) throw new MlmodelError('INVALID_ARGUMENT', `sync moves your own models; ${ref.name} names another user's`, { name: ref.name });
    const record = await resolveModel(from, ref);
    const head = record.latest ? record : await resolveModel(from, { name: ref.name });
    const only = ref.version === undefined && ref.alias === undefined ? null : record.version;
    const key = `${head.name}@${only ?? '*'}`;
    if (!items.has(key)) items.set(key, { head, only });
  }
  return [...items.values()];
}

/** The current user's models matching `condition` (a `where` stage of mlmodel list), on the sending side, by name. */
async function matching(from: EngineContext, condition: string): Promise<SyncItem[]> {
  // Loaded here: the language is built from the command list, this module among them.
  const { parse } = await import('../language.js');
  let query;
  try {
    query = parse(`mlmodel list | where ${condition}`);
  } catch (e) {
    throw new MlmodelError('INVALID_ARGUMENT', `where=${JSON.stringify(condition)} is not a list condition: ${isMlmodelError(e) || e instanceof Error ? e.message : String(e)}`, { where: condition });
  }
  const plan = planQuery(query);
  if (query.stages.length !== 1 || !plan.pushed || plan.pushed.rest.length > 0) {
    throw new MlmodelError('INVALID_ARGUMENT', `where=${JSON.stringify(condition)} must be one condition, without stages after it`, { where: condition });
  }
  const heads = await from.meta.findModels({ filter: F.and(listFilter(plan.pushed.filters), F.eq('user', from.user)) });
  return heads.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((head) => ({ head, only: null }));
}

export const syncCommand = defineCommand({
  syntax,
  summary: 'Pushes models to (to=) or pulls them from (from=) another registry configured under registries: only the versions missing there travel, checked by sha256; conflicts are reported, never overwritten.',
  examples: ['mlmodel sync mnist to=central', 'mlmodel sync mnist@2, iris from=central', "mlmodel sync to=central where=\"type = onnx and name like 'fraud%'\"", 'mlmodel sync from=central where="category = classification" | where result = conflict'],
  notes: [
    'Rows per version: copied, present (already there with the same sha256), updated (already there; the tags or aliases it lacked there carried over), conflict (the same number with other bytes there, or an alias pointing elsewhere) or failed (the model is left as it was; run it again).',
    'A sync killed at any point leaves nothing half-published; run it again and it moves what is still missing.',
  ],
  columns: SYNC_COLUMNS,
  writes: true,
  execute: executeSync,
});
