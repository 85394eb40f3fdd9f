import { defineCommand, type CommandAst } from './command.js';
import type { EngineContext } from '../engine/context.js';
import { nearest } from '../../grammar/suggest.js';
import { MlmodelError } from '../errors.js';
import { toStamp } from '../result/dates.js';
import { col, type ResultTable } from '../result/table.js';
import type { JsonValue, ModelRecord } from '../store/metadata.js';
import { resolveModel } from '../executor/models.js';
import { IRIS_OPTION_FIELDS } from '../planner/schema.js';

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

function optionText(v: JsonValue | undefined, fallback: string): string {
  if (v === undefined || v === null) return fallback;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export async function executeSummary(ctx: EngineContext, cmd: SummaryCommand): Promise<ResultTable> {
  const record = await resolveModel(ctx, cmd.model);
  const fields = (cmd.fields ?? SUMMARY_FIELDS).map((f) => {
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
  return {
    columns: [col('name', 'TEXT'), col('value', 'TEXT')],
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
