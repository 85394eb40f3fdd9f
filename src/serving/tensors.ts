import { MlmodelError } from '../errors.js';
import type { OnnxElementType, OnnxSignature, TensorSpec } from './onnx-graph.js';
import { dims, TYPE_NAMES } from './tensor-types.js';

/**
 * Request values → checked tensors, and output tensors → JSON, for every
 * protocol and for `predict` alike. Each check names what is wrong (which
 * input, which axis, which element) as an INVALID_ARGUMENT that the
 * protocols answer with their own 400; nothing malformed reaches ONNX
 * Runtime.
 */
export interface InputTensor {
  readonly name: string;
  readonly type: OnnxElementType;
  readonly shape: readonly number[];
  readonly data: readonly (number | boolean | string)[];
}

export interface OutputTensor {
  readonly name: string;
  readonly type: OnnxElementType;
  readonly shape: readonly number[];
  readonly data: readonly (number | boolean | string)[];
}

/** Elements one request may carry, all inputs together (16 Mi; the body limit usually binds first). */
export const MAX_ELEMENTS = 16 * 1024 * 1024;

const FLOAT32_MAX = 3.4028234663852886e38;

function bad(message: string, details: Record<string, unknown> = {}): MlmodelError {
  return new MlmodelError('INVALID_ARGUMENT', message, details);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A nested JSON array (or a scalar, for a rank-0 input) as `spec`'s tensor. */
export function nestedTensor(spec: TensorSpec, value: unknown): InputTensor {
  const rank = spec.shape.length;
  const shape: number[] = [];
  let level: unknown[] = [value];
  for (let axis = 0; axis < rank; axis++) {
    let len = -1;
    const next: unknown[] = [];
    for (const v of level) {
      if (!Array.isArray(v)) throw bad(`input ${spec.name} must be a ${rank}-dimensional array (shape [${dims(spec.shape).join(', ')}]); axis ${axis} holds ${describe(v)}`, { input: spec.name });
      if (len === -1) len = v.length;
      else if (v.length !== len) throw bad(`input ${spec.name} is ragged: axis ${axis} has lengths ${len} and ${v.length}`, { input: spec.name });
      if (next.length + v.length > MAX_ELEMENTS) throw tooMany();
      for (const x of v) next.push(x);
    }
    shape.push(len === -1 ? 0 : len);
    level = next;
  }
  return tensor(spec, shape, level);
}

/** KServe's form: a declared shape and its data, flat in row-major order (nested arrays are flattened). */
export function flatTensor(spec: TensorSpec, shape: unknown, data: unknown): InputTensor {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw bad(`input ${spec.name}: shape must be an array of whole numbers`, { input: spec.name });
  }
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  if (count > MAX_ELEMENTS) throw tooMany();
  if (!Array.isArray(data)) throw bad(`input ${spec.name}: data must be an array`, { input: spec.name });
  const flat = (data as unknown[]).flat(64);
  if (flat.length !== count) {
    throw bad(`input ${spec.name}: shape [${(shape as number[]).join(', ')}] holds ${count} elements, data has ${flat.length}`, { input: spec.name });
  }
  return tensor(spec, shape as number[], flat);
}

function tensor(spec: TensorSpec, shape: number[], flat: unknown[]): InputTensor {
  checkShape(spec, shape);
  if (flat.length > MAX_ELEMENTS) throw tooMany();
  const t = TYPE_NAMES[spec.type];
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    const ok =
      t.json === 'float'
        ? typeof v === 'number' && Number.isFinite(v) && (spec.type !== 'float' || Math.abs(v) <= FLOAT32_MAX)
        : t.json === 'integer'
          ? typeof v === 'number' && Number.isInteger(v) && v >= t.range![0] && v <= t.range![1]
          : t.json === 'boolean'
            ? typeof v === 'boolean'
            : typeof v === 'string';
    if (!ok) {
      const want = t.json === 'float' ? `a finite ${spec.type} number` : t.json === 'integer' ? `a whole number in ${spec.type}'s range` : `a ${t.json}`;
      throw bad(`input ${spec.name}: element ${i} is ${describe(v)}, not ${want}`, { input: spec.name, element: i });
    }
  }
  return { name: spec.name, type: spec.type, shape, data: flat as (number | boolean | string)[] };
}

function checkShape(spec: TensorSpec, shape: readonly number[]): void {
  const want = dims(spec.shape);
  const fits = shape.length === want.length && want.every((d, i) => d === -1 || d === shape[i]);
  if (!fits) throw bad(`input ${spec.name} has shape [${shape.join(', ')}]; the model takes [${want.join(', ')}] (-1: any size)`, { input: spec.name, shape: [...shape], expected: want });
}

function tooMany(): MlmodelError {
  return bad(`a request holds at most ${MAX_ELEMENTS} elements`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return typeof v === 'number' ? String(v) : `${typeof v} ${String(v)}`;
}

/**
 * The row form (TF Serving's and MLflow's `instances`): a list of rows. A
 * model with one input takes each row as one slice of it; with several,
 * each row is an object naming every input.
 */
export function rowInputs(sig: OnnxSignature, instances: unknown): InputTensor[] {
  if (!Array.isArray(instances) || instances.length === 0) throw bad('"instances" must be a non-empty list of rows');
  const named = sig.inputs.length > 1 || (isObject(instances[0]) && sig.inputs.length === 1 && sig.inputs[0]!.name in (instances[0] as object));
  if (!named) return [nestedTensor(sig.inputs[0]!, instances)];
  return sig.inputs.map((spec) =>
    nestedTensor(
      spec,
      instances.map((row, i) => {
        if (!isObject(row)) throw bad(`instance ${i} must be an object naming the inputs ${sig.inputs.map((s) => s.name).join(', ')}`);
        if (!Object.hasOwn(row, spec.name)) throw bad(`instance ${i} has no input ${spec.name}`, { input: spec.name });
        return row[spec.name];
      }),
    ),
  );
}

/** The columnar form (TF Serving's and MLflow's `inputs`): one value per input, or the value of the only input. */
export function columnInputs(sig: OnnxSignature, inputs: unknown): InputTensor[] {
  if (isObject(inputs)) return namedInputs(sig, inputs);
  if (sig.inputs.length !== 1) throw bad(`"inputs" must be an object naming the inputs ${sig.inputs.map((s) => s.name).join(', ')}`);
  return [nestedTensor(sig.inputs[0]!, inputs)];
}

/** An object of input name → nested value: every input given, none unknown. */
export function namedInputs(sig: OnnxSignature, byName: Record<string, unknown>): InputTensor[] {
  const known = new Set(sig.inputs.map((s) => s.name));
  for (const k of Object.keys(byName)) if (!known.has(k)) throw bad(`the model has no input ${JSON.stringify(k)}; its inputs: ${[...known].join(', ')}`, { input: k });
  return sig.inputs.map((spec) => {
    if (!Object.hasOwn(byName, spec.name)) throw bad(`input ${spec.name} is missing`, { input: spec.name });
    return nestedTensor(spec, byName[spec.name]);
  });
}

/**
 * A data frame (MLflow's `dataframe_split` and `dataframe_records`): for a
 * model with one 2-dimensional input, the columns are its features in
 * order; otherwise each column names an input of shape [-1] or [-1, 1].
 */
export function frameInputs(sig: OnnxSignature, columns: readonly string[] | null, rows: readonly unknown[][]): InputTensor[] {
  if (rows.length === 0) throw bad('the data frame has no rows');
  const only = sig.inputs.length === 1 ? sig.inputs[0]! : null;
  if (only && only.shape.length === 2 && (columns === null || !columns.includes(only.name))) {
    const width = only.shape[1];
    if (columns !== null && width !== null && columns.length !== width) throw bad(`input ${only.name} takes ${width} columns; the data frame has ${columns.length}`, { input: only.name });
    return [nestedTensor(only, rows)];
  }
  if (columns === null) throw bad('the data frame needs column names: the model has several inputs');
  const at = new Map(columns.map((c, i) => [c, i]));
  for (const c of columns) if (!sig.inputs.some((s) => s.name === c)) throw bad(`the model has no input ${JSON.stringify(c)}`, { input: c });
  return sig.inputs.map((spec) => {
    const i = at.get(spec.name);
    if (i === undefined) throw bad(`the data frame has no column ${spec.name}`, { input: spec.name });
    const values = rows.map((r) => r[i]);
    return nestedTensor(spec, spec.shape.length === 2 ? values.map((v) => [v]) : values);
  });
}

/** An output as nested arrays, by its shape. */
export function nestedOutput(t: OutputTensor): unknown {
  if (t.shape.length === 0) return t.data[0];
  let level: unknown[] = [...t.data];
  for (let axis = t.shape.length - 1; axis >= 1; axis--) {
    const n = t.shape[axis]!;
    const next: unknown[] = [];
    for (let i = 0; i < level.length; i += n) next.push(level.slice(i, i + n));
    level = next;
  }
  return level;
}

/** The row form of the answer: per row, the one output's slice, or an object of every output's slice. */
export function outputRows(outputs: readonly OutputTensor[]): unknown[] {
  const nested = outputs.map((o) => nestedOutput(o));
  if (outputs.length === 1) return nested[0] as unknown[];
  const n = Math.min(...nested.map((v) => (v as unknown[]).length));
  return Array.from({ length: n }, (_, i) => Object.fromEntries(outputs.map((o, k) => [o.name, (nested[k] as unknown[])[i]])));
}
