/**
 * TensorBoard's smoothing: an exponential moving average, debiased so the
 * first points are not pulled toward zero. `weight` 0 leaves the values as
 * they are; gaps (null) stay gaps and do not reset the average.
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return [...values];
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - Math.pow(weight, n));
  });
}

/** Series over their own steps → one x axis (every step, ascending) and each series' value at it, or null. */
export function align(series: readonly { steps: readonly number[]; values: readonly number[] }[]): { x: number[]; ys: (number | null)[][] } {
  if (series.length === 1) return { x: [...series[0]!.steps], ys: [[...series[0]!.values]] };
  const x = [...new Set(series.flatMap((s) => s.steps))].sort((a, b) => a - b);
  const at = new Map(x.map((s, i) => [s, i]));
  const ys = series.map((s) => {
    const y: (number | null)[] = new Array<number | null>(x.length).fill(null);
    s.steps.forEach((step, i) => (y[at.get(step)!] = s.values[i]!));
    return y;
  });
  return { x, ys };
}
