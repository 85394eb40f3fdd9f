import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cachedPython } from '../notebook/python-env.js';

const run = promisify(execFile);
const REQUIREMENTS = new URL('./serving-requirements.txt', import.meta.url).pathname;
const MAKE = new URL('./make_models.py', import.meta.url).pathname;
const PARSE_TRITON = new URL('./parse_triton_config.py', import.meta.url).pathname;

export interface Expected {
  iris_lr: { rows: number[][]; label: number[]; probabilities: number[][] };
  iris_lr_strong: { rows: number[][]; label: number[]; probabilities: number[][] };
  iris_reg: { rows: number[][]; variable: number[] };
}

export interface RealModels {
  readonly python: string;
  /** `<dir>/<name>.tar` for iris_lr, iris_lr_strong, iris_reg, unloadable. */
  readonly dir: string;
  readonly expected: Expected;
}

let made: Promise<RealModels> | undefined;

/**
 * scikit-learn models trained on its bundled iris data and converted with
 * skl2onnx, in a venv cached under ~/.cache/mlmodel (test/serving/
 * serving-requirements.txt), with scikit-learn's own answers beside them.
 * Made once per test process.
 */
export function realModels(): Promise<RealModels> {
  made ??= (async () => {
    const python = await cachedPython({ name: 'serving-models', requirements: REQUIREMENTS, what: 'scikit-learn, skl2onnx, onnx, tritonclient' }, (m) => console.log(m));
    const dir = mkdtempSync(join(tmpdir(), 'mlmodel-serving-models-'));
    await run(python, [MAKE, dir], { timeout: 120_000 });
    return { python, dir, expected: JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected };
  })();
  return made;
}

export interface TritonConfig {
  name: string;
  platform: string;
  backend: string;
  max_batch_size: number;
  versions: number[];
  inputs: { name: string; data_type: string; dims: number[] }[];
  outputs: { name: string; data_type: string; dims: number[] }[];
  error?: string;
}

/** Parses config.pbtxt texts with protobuf's text_format into Triton's ModelConfig (tritonclient's model_config_pb2). */
export async function parseTritonConfigs(python: string, texts: readonly string[]): Promise<TritonConfig[]> {
  return new Promise((res, rej) => {
    const child = spawn(python, [PARSE_TRITON], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', rej);
    child.once('close', (code) => (code === 0 ? res(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as TritonConfig)) : rej(new Error(err))));
    child.stdin.end(texts.map((t) => JSON.stringify(t)).join('\n') + '\n');
  });
}

/** Whether two arrays of numbers (nested alike) agree within `tol`. */
export function close(actual: unknown, expected: unknown, tol = 1e-5): boolean {
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => close(actual[i], e, tol));
  return typeof actual === 'number' && typeof expected === 'number' && Math.abs(actual - expected) <= tol;
}
