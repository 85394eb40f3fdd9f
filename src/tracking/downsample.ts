/**
 * Fewer points that draw the same line: the series is cut into buckets of
 * consecutive points and each bucket keeps its lowest and its highest point,
 * in step order, so spikes and dips survive however far a million points are
 * reduced. One pass over the columns (typed arrays or lists), no sorting
 * (they come ordered by step), no object per point.
 */
export interface Series {
  readonly steps: readonly number[];
  readonly values: readonly number[];
}

/** A series as two columns of the same length, as a reader fills them (Float64Array) or a list holds them. */
export interface SeriesColumns {
  readonly steps: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

/** At most `max` points (max ≥ 2) of the series, keeping each bucket's extremes and the first and last point. */
export function downsample(series: SeriesColumns, max: number): Series {
  const n = series.steps.length;
  if (n <= max) return { steps: Array.from(series.steps), values: Array.from(series.values) };
  const limit = Math.max(2, Math.floor(max));
  const buckets = Math.max(1, Math.floor(limit / 2));
  const steps: number[] = [];
  const values: number[] = [];
  const push = (i: number) => {
    steps.push(series.steps[i]!);
    values.push(series.values[i]!);
  };
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.floor(((b + 1) * n) / buckets);
    let lo = from;
    let hi = from;
    for (let i = from + 1; i < to; i++) {
      const v = series.values[i]!;
      if (v < series.values[lo]!) lo = i;
      if (v > series.values[hi]!) hi = i;
    }
    const first = Math.min(lo, hi);
    const second = Math.max(lo, hi);
    push(first);
    if (second !== first) push(second);
  }
  // The first and last points always stay: a chart's x axis spans the whole run.
  if (steps[0] !== series.steps[0]) {
    steps.unshift(series.steps[0]!);
    values.unshift(series.values[0]!);
  }
  if (steps[steps.length - 1] !== series.steps[n - 1]) push(n - 1);
  return { steps, values };
}
