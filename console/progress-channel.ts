/**
 * Progress for a program that runs the CLI (the notebook magic): with
 * `MLMODEL_PROGRESS_FD=N` in the environment, batch mode writes one JSON
 * line per update to file descriptor N, which the caller opened for it (a
 * pipe), instead of drawing on a terminal. stdout stays the results and
 * stderr the errors, so neither needs picking apart.
 *
 *     {"phase":"import","done":1048576,"total":67109888,"fraction":0.0156,"rate":2097152,"eta":31,"line":"import  [█░░…]  1%  …"}
 *     {"clear":true}
 *
 * `line` is the console's own progress line (progressLine), so every front
 * end words it the same. Updates come no oftener than every 100 ms and only
 * for work that lasts longer than 300 ms, like the terminal line's.
 */
import { writeSync } from 'node:fs';
import { ProgressMeter, progressLine, type LineProgress, type ProgressReport } from './progress.js';

const DELAY_MS = 300;
const INTERVAL_MS = 100;
/** The line's width: a notebook output is about as wide as a terminal. */
const WIDTH = 100;

/** The channel named by MLMODEL_PROGRESS_FD, or undefined when it is not set (or not a descriptor number). */
export function progressChannel(env: Readonly<Record<string, string | undefined>>, now: () => number = () => performance.now()): LineProgress | undefined {
  const raw = env.MLMODEL_PROGRESS_FD;
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) return undefined;
  const fd = Number(raw);
  // 0–2 are the results, the errors and the script: progress lines there would corrupt them.
  if (fd < 3) return undefined;
  let open = true;
  const send = (doc: unknown) => {
    if (!open) return;
    try {
      writeSync(fd, JSON.stringify(doc) + '\n');
    } catch {
      // The reader went away or the descriptor was never open: progress is only a courtesy.
      open = false;
    }
  };
  let meter = new ProgressMeter(now);
  let started: number | null = null;
  let lastSent = -Infinity;
  let sent = false;
  return {
    report(p: ProgressReport) {
      const t = now();
      started ??= t;
      const view = meter.update(p);
      const finished = p.total !== null && p.done >= p.total;
      if (t - started < DELAY_MS || (t - lastSent < INTERVAL_MS && !finished)) return;
      lastSent = t;
      sent = true;
      send({ phase: view.phase, done: view.done, total: view.total, fraction: view.fraction, rate: view.rate, eta: view.eta, line: progressLine(view, WIDTH) });
    },
    clear() {
      if (sent) send({ clear: true });
      sent = false;
      started = null;
      lastSent = -Infinity;
      meter = new ProgressMeter(now);
    },
  };
}
