/**
 * Progress of long commands (import, export, deploy) for people: bytes done
 * and total, rate, time left. The REPL draws it as an Ink bar; batch mode as
 * one line on stderr that rewrites itself, only when stderr is a terminal.
 * Nothing here imports Ink, so batch mode stays light.
 */

/** The engine's report (src/engine/context.ts `Progress`), restated so this module imports nothing. */
export interface ProgressReport {
  readonly phase: string;
  readonly done: number;
  readonly total: number | null;
}

export interface ProgressView extends ProgressReport {
  /** Bytes per second over the last few seconds; null until there is enough to tell. */
  readonly rate: number | null;
  /** Seconds left at that rate; null without a total or a rate. */
  readonly eta: number | null;
  /** done / total in [0, 1]; null without a total. */
  readonly fraction: number | null;
  /** Seconds since the first report. */
  readonly elapsed: number;
}

/** How far back the rate looks: long enough to be steady, short enough to follow a change. */
const RATE_WINDOW_MS = 3000;

/** Turns a stream of reports into views with a rate and an ETA. */
export class ProgressMeter {
  readonly #now: () => number;
  #samples: { t: number; done: number }[] = [];
  #start: number | null = null;
  #phase = '';

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  update(p: ProgressReport): ProgressView {
    const t = this.#now();
    if (this.#start === null || p.phase !== this.#phase) {
      this.#start = t;
      this.#samples = [];
      this.#phase = p.phase;
    }
    this.#samples.push({ t, done: p.done });
    while (this.#samples.length > 2 && t - this.#samples[0]!.t > RATE_WINDOW_MS) this.#samples.shift();
    const first = this.#samples[0]!;
    const span = (t - first.t) / 1000;
    const rate = span >= 0.2 ? Math.max(0, (p.done - first.done) / span) : null;
    const fraction = p.total !== null && p.total > 0 ? Math.min(1, p.done / p.total) : null;
    const eta = p.total !== null && rate !== null && rate > 0 ? Math.max(0, (p.total - p.done) / rate) : null;
    return { ...p, rate, eta, fraction, elapsed: (t - this.#start) / 1000 };
  }
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → `1.5 KiB`; three significant digits at most. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${Math.round(v)} B`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${UNITS[u]}`;
}

/** 65 → `1m05s`; 3725 → `1h02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `12.0 MiB / 40.0 MiB  3.10 MiB/s  ETA 9s` — the figures, without a bar. */
export function progressFigures(v: ProgressView): string {
  const amount = v.total !== null ? `${formatBytes(v.done)} / ${formatBytes(v.total)}` : formatBytes(v.done);
  const rate = v.rate !== null ? `  ${formatBytes(v.rate)}/s` : '';
  const eta = v.eta !== null ? `  ETA ${formatDuration(v.eta)}` : '';
  return `${amount}${rate}${eta}`;
}

/** A bar of `width` cells: `█` done, `░` to go. */
export function bar(fraction: number, width: number): string {
  const w = Math.max(0, width);
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * w);
  return '█'.repeat(full) + '░'.repeat(w - full);
}

/** `import  [█████░░░░░]  42%  12.0 MiB / 28.6 MiB  3.10 MiB/s  ETA 5s`, at most `width` columns. */
export function progressLine(v: ProgressView, width = 80): string {
  const figures = progressFigures(v);
  const percent = v.fraction !== null ? `${String(Math.floor(v.fraction * 100)).padStart(3)}%  ` : '';
  const fixed = `${v.phase}  ${percent}${figures}`;
  const barWidth = Math.min(30, width - fixed.length - 4);
  const line = v.fraction !== null && barWidth >= 10 ? `${v.phase}  [${bar(v.fraction, barWidth)}]  ${percent}${figures}` : fixed;
  return line.length > width ? line.slice(0, Math.max(0, width - 1)) + '…' : line;
}

export interface LineProgressTarget {
  write(chunk: string): unknown;
  readonly columns?: number;
}

export interface LineProgress {
  /** Feed a report; the line is redrawn at most every `intervalMs`. */
  report(p: ProgressReport): void;
  /** Erase the line (before a result or an error is printed). */
  clear(): void;
}

export interface LineProgressOptions {
  readonly now?: () => number;
  /** Nothing is drawn for work that ends sooner than this (no flicker for small files). */
  readonly delayMs?: number;
  readonly intervalMs?: number;
}

/**
 * The batch-mode progress line on a terminal's stderr: `\r`, the line, and
 * erase-to-end-of-line, so it updates in place; `clear()` wipes it.
 */
export function lineProgress(target: LineProgressTarget, options: LineProgressOptions = {}): LineProgress {
  const now = options.now ?? (() => performance.now());
  const delay = options.delayMs ?? 300;
  const interval = options.intervalMs ?? 100;
  let meter = new ProgressMeter(now);
  let started: number | null = null;
  let lastDraw = -Infinity;
  let drawn = false;
  return {
    report(p) {
      const t = now();
      started ??= t;
      const view = meter.update(p);
      const finished = p.total !== null && p.done >= p.total;
      if (t - started < delay || (t - lastDraw < interval && !finished)) return;
      lastDraw = t;
      drawn = true;
      const width = Math.max(20, (target.columns ?? 80) - 1);
      target.write(`\r${progressLine(view, width)}\x1b[K`);
    },
    clear() {
      if (drawn) target.write('\r\x1b[K');
      drawn = false;
      started = null;
      lastDraw = -Infinity;
      meter = new ProgressMeter(now);
    },
  };
}
