/**
 * Model archives for the benches: plain ustar, written here (no tool needed).
 * Small ones hold one file per model type; big ones hold one model file of a
 * given size, streamed to disk so memory stays flat.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { once } from 'node:events';

function header(name: string, size: number, type: '0' | '5' = '0'): Buffer {
  const h = Buffer.alloc(512, 0);
  h.write(name, 0, 100, 'utf8');
  h.write(type === '5' ? '0000755\0' : '0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write(Math.floor(Date.UTC(2024, 0, 1) / 1000).toString(8).padStart(11, '0') + '\0', 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512, 0);

/** A tar of small files in memory. */
export function tar(files: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const body = typeof content === 'string' ? Buffer.from(content) : content;
    parts.push(header(name, body.length), body, pad(body.length));
  }
  parts.push(Buffer.alloc(1024, 0));
  return Buffer.concat(parts);
}

export const MODEL_TYPES = ['r', 'sklearn', 'spark', 'tf', 'onnx'] as const;
export const CATEGORIES = ['classification', 'regression', 'clustering', 'nlp'] as const;
export const ALGORITHMS = ['linear', 'tree', 'forest', 'boosting', 'deep', 'kmeans'] as const;

/**
 * Model i of a bench registry (the same in scripts/bench-mlflow.py): 5 types,
 * 4 categories and 6 algorithms spread evenly, so `type = tf and category =
 * classification` matches 1 model in 20.
 */
export function benchModel(i: number): { name: string; type: string; category: string; algorithm: string } {
  return {
    name: `bench-${i}`,
    type: MODEL_TYPES[i % 5]!,
    category: CATEGORIES[Math.floor(i / 5) % 4]!,
    algorithm: ALGORITHMS[Math.floor(i / 20) % 6]!,
  };
}

const SMALL: Record<(typeof MODEL_TYPES)[number], Record<string, string>> = {
  r: { 'model.rda': 'RDX3\nrda payload' },
  sklearn: { 'model.pkl': '\x80\x04pickled estimator', README: 'bench model' },
  spark: { 'metadata/part-00000': '{"class":"LogisticRegressionModel"}', 'data/part-00000.parquet': 'PAR1....PAR1' },
  tf: { 'model.h5': '\x89HDF\r\n\x1a\nweights' },
  onnx: { 'model.onnx': 'onnx graph bytes' },
};

/** One small archive per model type under dir (written once); returns type → path. */
export function smallArchives(dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true });
  const out: Record<string, string> = {};
  for (const type of MODEL_TYPES) {
    const path = join(dir, `${type}.tar`);
    if (!existsSync(path)) writeFileSync(path, tar(SMALL[type]));
    out[type] = path;
  }
  return out;
}

/** The `mlmodel import` line for bench model i. */
export function importLine(i: number, archives: Record<string, string>): string {
  const m = benchModel(i);
  return `mlmodel import name=${m.name} type=${m.type} category=${m.category} algorithm=${m.algorithm} path=${archives[m.type]}`;
}

/**
 * A tar holding one `model.onnx` of `size` bytes of incompressible data
 * (layout 'onnx'), or a TensorFlow SavedModel whose variables file has that
 * size (layout 'tf'), written once to `path` (streamed: 1 MiB at a time).
 */
export async function bigArchive(path: string, size: number, layout: 'onnx' | 'tf' = 'onnx'): Promise<string> {
  const graph = Buffer.from('\x08\x01saved model graph');
  const prefix =
    layout === 'tf' ? Buffer.concat([header('saved_model.pb', graph.length), graph, pad(graph.length), header('variables/', 0, '5')]) : Buffer.alloc(0);
  const total = prefix.length + 512 + size + pad(size).length + 1024;
  if (existsSync(path) && statSync(path).size === total) return path;
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  const write = async (b: Buffer) => {
    if (!out.write(b)) await once(out, 'drain');
  };
  await write(prefix);
  await write(header(layout === 'tf' ? 'variables/variables.data-00000-of-00001' : 'model.onnx', size));
  let seed = createHash('sha256').update(String(size)).digest();
  const block = Buffer.alloc(1 << 20);
  for (let done = 0; done < size; ) {
    // A different block each MiB (sha256 chain seeds an xorshift fill): nothing dedupes or compresses it.
    seed = createHash('sha256').update(seed).digest();
    let x = seed.readUInt32LE(0) | 1;
    for (let o = 0; o < block.length; o += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      block.writeInt32LE(x | 0, o);
    }
    const n = Math.min(block.length, size - done);
    await write(n === block.length ? Buffer.from(block) : block.subarray(0, n));
    done += n;
  }
  await write(Buffer.concat([pad(size), Buffer.alloc(1024, 0)]));
  out.end();
  await once(out, 'finish');
  renameSync(tmp, path);
  return path;
}
