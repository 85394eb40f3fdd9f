import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { nearest } from '../../grammar/suggest.js';
import { MlmodelError } from '../errors.js';
import { toStamp } from '../result/dates.js';
import { col, type Column, type ResultTable, type TypedValue } from '../result/table.js';
import type { JsonValue, ModelRecord } from '../store/metadata.js';
import { resolveModel } from '../executor/models.js';
import { IRIS_OPTION_FIELDS } from '../planner/schema.js';
import { readRun } from '../tracking/runs.js';
import type { RunRecord } from '../tracking/store.js';
import type { MetricPoint } from '../tracking/store.js';

/** Steps of a run's history an IRIS evaluation list shows (the last ones). */
const EVALUATION_STEPS = 1000;
const LOSS = /loss/i;

/**
 * A version imported with run=ID takes IRIS's training fields from its run,
 * where the import gave none: parameter (the run's params), evaluation (one
 * entry per step, IRIS's `{losses: {…}, metrics: {…}}`, for the last 1000
 * steps), train_cnt (a param of that name), elapsed (seconds from start to
 * end). What the import recorded explicitly wins.
 */
async function withRunFields(ctx: EngineContext, r: ModelRecord): Promise<ModelRecord> {
  const id = r.options.run;
  if (typeof id !== 'number') return r;
  const run = await readRun(ctx, id).catch(() => null);
  if (!run) return r;
  const fromRun = runOptions(run, await (await ctx.tracking()).runMetrics(id));
  return { ...r, options: { ...fromRun, ...r.options } };
}

export function runOptions(run: RunRecord, metrics: Map<string, MetricPoint[]>): Record<string, JsonValue> {
  const byStep = new Map<number, { losses: Record<string, number>; metrics: Record<string, number> }>();
  for (const [key, points] of metrics) {
    for (const p of points) {
      let e = byStep.get(p.step);
      if (!e) byStep.set(p.step, (e = { losses: {}, metrics: {} }));
      (LOSS.test(key) ? e.losses : e.metrics)[key] = p.value;
    }
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b).slice(-EVALUATION_STEPS);
  const out: Record<string, JsonValue> = { parameter: run.params, evaluation: steps.map((s) => byStep.get(s)!) };
  const trainCnt = run.params.train_cnt;
  if (typeof trainCnt === 'number') out.train_cnt = trainCnt;
  if (run.end) out.elapsed = (run.end.getTime() - run.start.getTime()) / 1000;
  return out;
}

const syntax = {
  keywords: ['summary'],
  args: [{ kind: 'model' }, { kind: 'names', field: 'fields', label: 'a field name', optional: true }],
} as const;

export type SummaryCommand = CommandAst<typeof syntax>;

/** The fields of IRIS's summary, in its order, then ours. */
export const SUMMARY_FIELDS = [
  'id',
  'user',
  'name',
  'filename',
  'format',
  'type',
  'category',
  'algorithm',
  ...IRIS_OPTION_FIELDS,
  'cdate',
  'mdate',
  'serving',
  'serving_name',
  'state',
  'version',
  'size',
  'sha256',
  'tags',
  'description',
  'run',
] as const;

type SummaryField = (typeof SUMMARY_FIELDS)[number];

/** Defaults IRIS shows for options nobody gave. */
const OPTION_DEFAULTS: Readonly<Record<string, string>> = { evaluation: '[]', cross_validation: '{}', grid_info: '{}' };

/** Summary values are text, as IRIS shows them: times as yyyyMMddHHmmss, structures as JSON. */
function value(r: ModelRecord, field: SummaryField): string {
  switch (field) {
    case 'id':
    case 'version':
    case 'size':
      return String(r[field]);
    case 'user':
    case 'name':
    case 'type':
    case 'serving':
    case 'sha256':
      return r[field];
    case 'filename':
    case 'format':
    case 'category':
    case 'algorithm':
      return r[field] ?? '';
    case 'serving_name':
      return r.serving_name ?? `${r.user}_${r.name}`;
    case 'cdate':
      return String(toStamp(r.create));
    case 'mdate':
      return String(toStamp(r.modified));
    case 'state':
      // Every stored model finished training elsewhere; IRIS calls that DONE.
      return 'DONE';
    case 'tags':
      return r.tags.join(',');
    default:
      return optionText(r.options[field], OPTION_DEFAULTS[field] ?? '');
  }
}

/** The same value in its own type, for the `typed` of the value column (the text stays IRIS's). */
function typedValue(r: ModelRecord, field: SummaryField): TypedValue {
  switch (field) {
    case 'id':
    case 'version':
    case 'size':
      return { type: 'LONG', value: r[field] };
    case 'cdate':
      return { type: 'DATETIME', value: isoSeconds(r.create) };
    case 'mdate':
      return { type: 'DATETIME', value: isoSeconds(r.modified) };
    case 'tags':
      return { type: 'JSON', value: [...r.tags] };
    case 'user':
    case 'name':
    case 'type':
    case 'serving':
    case 'sha256':
    case 'filename':
    case 'format':
    case 'category':
    case 'algorithm':
    case 'serving_name':
    case 'state':
      return { type: 'TEXT', value: value(r, field) || null };
    default: {
      const v = r.options[field];
      if (v === undefined || v === null) return OPTION_DEFAULTS[field] !== undefined ? { type: 'JSON', value: JSON.parse(OPTION_DEFAULTS[field]) as JsonValue } : { type: 'TEXT', value: null };
      if (typeof v === 'number') return { type: Number.isInteger(v) ? 'LONG' : 'DOUBLE', value: v };
      if (typeof v === 'boolean') return { type: 'BOOLEAN', value: v };
      if (typeof v === 'string') return { type: 'TEXT', value: v };
      return { type: 'JSON', value: v };
    }
  }
}

/** ISO 8601 in UTC to the second, the precision of the stamp beside it and of the machine formats' times. */
function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function optionText(v: JsonValue | undefined, fallback: string): string {
  if (v === undefined || v === null) return fallback;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export async function executeSummary(ctx: EngineContext, cmd: SummaryCommand): Promise<ResultTable> {
  const record = await withRunFields(ctx, await resolveModel(ctx, cmd.model));
  // `run` is shown only for a version that names one, so IRIS's summary stays as IRIS shows it.
  const defaults = typeof record.options.run === 'number' ? SUMMARY_FIELDS : SUMMARY_FIELDS.filter((f) => f !== 'run');
  const fields = (cmd.fields ?? defaults).map((f) => {
    const known = SUMMARY_FIELDS.find((k) => k === f.toLowerCase());
    if (!known) {
      const suggestion = nearest(f, SUMMARY_FIELDS);
      throw new MlmodelError('INVALID_ARGUMENT', `unknown summary field "${f}"${suggestion ? `; did you mean ${suggestion}?` : ''}; valid fields: ${SUMMARY_FIELDS.join(', ')}`, {
        field: f,
        valid: SUMMARY_FIELDS,
      });
    }
    return known;
  });
  const typed: Column = { ...col('value', 'TEXT'), typed: Object.fromEntries(fields.map((f) => [f, typedValue(record, f)])) };
  return {
    columns: [col('name', 'TEXT'), typed],
    rows: fields.map((f) => [f, value(record, f)]),
  };
}

export const summaryCommand = defineCommand({
  syntax,
  summary: "One model's fields as name/value rows; name some fields to see only those, in that order.",
  examples: ['mlmodel summary mnist_v1', 'mlmodel summary mnist_v1 format, sha256, size', 'mlmodel summary mnist_v1@2'],
  notes: ['A model is NAME, NAME@VERSION or NAME@ALIAS.'],
  columns: [col('name', 'TEXT'), col('value', 'TEXT')],
  writes: false,
  execute: executeSummary,
});
