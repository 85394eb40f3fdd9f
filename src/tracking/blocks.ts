/**
 * Block summaries of a metric for charts: each run's metric keeps, per block
 * of BLOCK_STEPS consecutive steps, its lowest and its highest point,
 * updated in the transaction that logs the points. A chart of a long
 * history then reads one row per block — 7,813 for a million steps — instead
 * of visiting every point: its buckets are whole blocks, so each bucket's
 * extremes are the extremes of its blocks' extremes, exactly (grouped by
 * bucket in SQL, sqlite.ts).
 */
import type { MetricPoint } from './store.js';

export const BLOCK_STEPS = 128;

export interface Block {
  key: string;
  block: number;
  loStep: number;
  lo: number;
  hiStep: number;
  hi: number;
}

/** The blocks a batch of points touches, each with the batch's extremes in it (ties: the first logged). */
export function batchBlocks(points: readonly MetricPoint[]): Block[] {
  const out = new Map<string, Block>();
  for (const p of points) {
    const block = Math.floor(p.step / BLOCK_STEPS);
    const id = `${block}\u0000${p.key}`;
    const b = out.get(id);
    if (!b) out.set(id, { key: p.key, block, loStep: p.step, lo: p.value, hiStep: p.step, hi: p.value });
    else {
      if (p.value < b.lo) {
        b.lo = p.value;
        b.loStep = p.step;
      }
      if (p.value > b.hi) {
        b.hi = p.value;
        b.hiStep = p.step;
      }
    }
  }
  return [...out.values()];
}

/**
 * The bucket width, in steps, for reducing steps first..last to at most
 * `buckets` buckets made of whole blocks; null when a bucket would be
 * narrower than a block (a short range of steps: the points are reduced
 * from the history itself).
 */
export function blockBucketWidth(first: number, last: number, buckets: number): number | null {
  const base = Math.floor(first / BLOCK_STEPS) * BLOCK_STEPS;
  const width = Math.ceil((last - base + 1) / buckets);
  if (width < BLOCK_STEPS) return null;
  return Math.ceil(width / BLOCK_STEPS) * BLOCK_STEPS;
}

/**
 * Each bucket's lowest and highest point, in step order (one point when they
 * are the same), from the rows [bucket, step, value] of the buckets' lowest
 * and of their highest points, each in bucket order (every bucket is in both).
 */
export function bucketExtremes(lowest: readonly (readonly number[])[], highest: readonly (readonly number[])[]): { steps: number[]; values: number[] } {
  const steps: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < lowest.length; i++) {
    const [, loStep, lo] = lowest[i]! as [number, number, number];
    const [, hiStep, hi] = highest[i]! as [number, number, number];
    pushExtremes(steps, values, loStep, lo, hiStep, hi);
  }
  return { steps, values };
}

/** Appends one bucket's lowest and highest points in step order (once when they are the same point). */
export function pushExtremes(steps: number[], values: number[], loStep: number, lo: number, hiStep: number, hi: number): void {
  if (loStep === hiStep && lo === hi) {
    steps.push(loStep);
    values.push(lo);
  } else if (loStep <= hiStep) {
    steps.push(loStep, hiStep);
    values.push(lo, hi);
  } else {
    steps.push(hiStep, loStep);
    values.push(hi, lo);
  }
}
