/**
 * What each model type must contain, checked as names stream past, and
 * which file is "the model" (IRIS's `filename`) and its format.
 *
 * Matching is by exact basename anywhere in the tree, so
 * `export/1/saved_model.pb` satisfies tf. When several files match, the
 * shallowest wins, then the first in archive order.
 */
import { MlmodelError } from '../errors.js';
import { refuse } from './refuse.js';
import { MODEL_TYPES, type ModelFormat, type ModelType } from './types.js';

export function parseModelType(type: string): ModelType {
  if ((MODEL_TYPES as readonly string[]).includes(type)) return type as ModelType;
  throw new MlmodelError('INVALID_ARGUMENT', `unknown model type ${JSON.stringify(type)}; valid types: ${MODEL_TYPES.join(', ')}`, {
    type,
    valid: [...MODEL_TYPES],
  });
}

/** Human wording of each type's requirement, used in errors and docs. */
export const REQUIREMENTS: Readonly<Record<ModelType, string>> = {
  r: 'model.rda',
  sklearn: 'model.pkl',
  spark: 'data.parquet (or *.parquet under a data/ directory) and metadata (file or directory)',
  tf: 'model.h5 or saved_model.pb',
  onnx: 'model.onnx',
};

interface Candidate {
  path: string;
  format: ModelFormat;
  depth: number;
  /** Lower ranks win when a type accepts more than one kind of main file. */
  rank: number;
}

export class RequiredFiles {
  private main: Candidate | undefined;
  private sparkMetadata = false;

  constructor(readonly type: ModelType) {}

  /** Each accepted name, files and directories alike (implied directories too). */
  observe(path: string, kind: 'file' | 'directory'): void {
    if (path === '') return;
    const segments = path.split('/');
    const base = segments[segments.length - 1] ?? '';
    const depth = segments.length;
    if (this.type === 'spark') {
      if (segments.includes('metadata')) this.sparkMetadata = true;
      if (kind !== 'file') return;
      if (base === 'data.parquet') this.offer({ path, format: 'spark', depth, rank: 0 });
      else if (base.endsWith('.parquet') && segments.slice(0, -1).includes('data')) {
        this.offer({ path, format: 'spark', depth, rank: 1 });
      }
      return;
    }
    if (kind !== 'file') return;
    switch (this.type) {
      case 'r':
        if (base === 'model.rda') this.offer({ path, format: 'rda', depth, rank: 0 });
        break;
      case 'sklearn':
        if (base === 'model.pkl') this.offer({ path, format: 'pickle', depth, rank: 0 });
        break;
      case 'onnx':
        if (base === 'model.onnx') this.offer({ path, format: 'onnx', depth, rank: 0 });
        break;
      case 'tf':
        // saved_model.pb is what TF Serving loads, so it names the model when both exist.
        if (base === 'saved_model.pb') this.offer({ path, format: 'saved_model', depth, rank: 0 });
        else if (base === 'model.h5') this.offer({ path, format: 'h5', depth, rank: 1 });
        break;
    }
  }

  /** Throws naming what is missing; otherwise the main file and format. */
  finish(): { filename: string; format: ModelFormat } {
    const missing: string[] = [];
    if (this.main === undefined) {
      missing.push(this.type === 'spark' ? 'data.parquet (or *.parquet under data/)' : REQUIREMENTS[this.type]);
    }
    if (this.type === 'spark' && !this.sparkMetadata) missing.push('metadata');
    if (missing.length > 0 || this.main === undefined) {
      throw refuse('missing-required', `${/^[aeiou]/i.test(this.type) ? 'an' : 'a'} ${this.type} model archive must contain ${REQUIREMENTS[this.type]}; missing: ${missing.join(', ')}`, undefined, {
        type: this.type,
        missing,
      });
    }
    return { filename: this.main.path, format: this.main.format };
  }

  private offer(c: Candidate): void {
    const m = this.main;
    if (m === undefined || c.rank < m.rank || (c.rank === m.rank && c.depth < m.depth)) this.main = c;
  }
}
