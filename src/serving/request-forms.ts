import { MlmodelError } from '../errors.js';
import type { OnnxSignature } from './onnx-graph.js';
import { columnInputs, frameInputs, rowInputs, type InputTensor } from './tensors.js';

/**
 * The JSON request bodies MLflow's scoring server takes (`dataframe_split`,
 * `dataframe_records`, `instances`, `inputs`; TF Serving's `instances` and
 * `inputs` are the same two), as tensors for a model's signature: what
 * `POST /invocations` and `mlmodel predict file=…` read.
 */
export const BODY_FORMS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

function bad(message: string): MlmodelError {
  return new MlmodelError('INVALID_ARGUMENT', message);
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`the body must be a JSON object: ${what}`);
  return v as Record<string, unknown>;
}

export function inputsFromBody(sig: OnnxSignature, raw: unknown): InputTensor[] {
  const body = object(raw, `{"dataframe_split" | "dataframe_records" | "instances" | "inputs": …}`);
  const given = BODY_FORMS.filter((f) => Object.hasOwn(body, f));
  const unknown = Object.keys(body).filter((k) => !(BODY_FORMS as readonly string[]).includes(k) && k !== 'params');
  if (given.length !== 1 || unknown.length > 0) {
    throw bad(
      `Invalid input. The input must be a JSON dictionary with exactly one of the input fields {${BODY_FORMS.map((f) => `'${f}'`).join(', ')}}. Received dictionary with input fields: [${Object.keys(body)
        .map((k) => `'${k.slice(0, 40)}'`)
        .join(', ')}].`,
    );
  }
  switch (given[0]!) {
    case 'instances':
      return rowInputs(sig, body.instances);
    case 'inputs':
      return columnInputs(sig, body.inputs);
    case 'dataframe_split': {
      const split = object(body.dataframe_split, '"dataframe_split" is {"columns": [...], "data": [[...]]}');
      const columns = split.columns === undefined ? null : split.columns;
      if (columns !== null && (!Array.isArray(columns) || !columns.every((c) => typeof c === 'string'))) {
        throw bad('"dataframe_split.columns" must be a list of column names');
      }
      if (!Array.isArray(split.data) || !split.data.every((r) => Array.isArray(r))) throw bad('"dataframe_split.data" must be a list of rows');
      for (const r of split.data as unknown[][]) {
        if (columns !== null && r.length !== columns.length) throw bad(`a row has ${r.length} values for ${columns.length} columns`);
      }
      return frameInputs(sig, columns as string[] | null, split.data as unknown[][]);
    }
    case 'dataframe_records': {
      const records = body.dataframe_records;
      if (!Array.isArray(records) || records.length === 0) throw bad('"dataframe_records" must be a non-empty list of {column: value} records');
      const first = object(records[0], 'each record is an object {column: value}');
      const columns = Object.keys(first);
      const rows = records.map((r, i) => {
        const rec = object(r, 'each record is an object {column: value}');
        const keys = Object.keys(rec);
        if (keys.length !== columns.length || !columns.every((c) => Object.hasOwn(rec, c))) throw bad(`record ${i} does not have the columns of the first record`);
        return columns.map((c) => rec[c]);
      });
      return frameInputs(sig, columns, rows);
    }
  }
}
