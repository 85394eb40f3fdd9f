import type { OnnxSignature } from './onnx-graph.js';
import type { LoadedModel } from './onnx-runtime.js';
import type { InputTensor, OutputTensor } from './tensors.js';

/**
 * Dynamic batching: the requests that reach one loaded model while it is
 * running are answered by one ONNX Runtime run of all their rows, stacked
 * along the first (batch) dimension, and the outputs cut back per request.
 *
 * A run of one row costs about what a run of sixteen does (session and
 * tensor overhead, not arithmetic, for the small models served here), so
 * under concurrent load most of the model's per-request cost goes. Nothing
 * waits for a timer. A request that finds the model idle runs at once when
 * the last run answered one request (a lone client: nothing else is coming);
 * after a run of several (concurrent clients) it waits for the rest of the
 * event loop's turn, so the requests whose bytes arrived with it join it.
 * The ones arriving while a run runs (ONNX Runtime runs on the event loop,
 * so they queue behind it anyway) go together in the next run, up to
 * `maxRows` rows.
 *
 * Only models whose every input and output has a dynamic first dimension
 * are batched, and only requests whose inputs agree on their row count and
 * on every other dimension go in one run. A batched run that fails is run
 * again request by request, so a request the model refuses gets its own
 * error and the others their answers; a model whose outputs do not come
 * back one row per input row is not batched again.
 */
export interface BatchOptions {
  /** Most rows in one run; 1 or less: every request runs alone. */
  readonly maxRows: number;
}

/** Rows one run takes by default: past a few dozen rows a run's cost grows with them and batching gains little. */
export const DEFAULT_MAX_BATCH_ROWS = 64;

interface Pending {
  readonly inputs: readonly InputTensor[];
  readonly rows: number;
  /** Requests with equal keys stack: same inputs in the same order, same dimensions past the first. */
  readonly key: string;
  readonly resolve: (outputs: OutputTensor[]) => void;
  readonly reject: (e: unknown) => void;
}

/** Whether a signature can be stacked along its first dimension: every tensor has one and it is dynamic. */
export function batchable(sig: OnnxSignature): boolean {
  return [...sig.inputs, ...sig.outputs].every((t) => t.shape.length >= 1 && t.shape[0] === null);
}

/** How a model's requests were run: `runs` below `requests` is batching at work. */
export interface BatchStats {
  requests: number;
  runs: number;
  /** The most requests one run answered. */
  largest: number;
}

export interface BatchedModel {
  run(inputs: readonly InputTensor[]): Promise<OutputTensor[]>;
  stats(): BatchStats;
}

/** `model.run`, batched as described above (or each request alone when the model or the options do not allow it). */
export function batchedRun(model: LoadedModel, options: BatchOptions): BatchedModel {
  const counts: BatchStats = { requests: 0, runs: 0, largest: 0 };
  const stats = () => ({ ...counts });
  const runOne = (inputs: readonly InputTensor[]) => {
    counts.requests++;
    counts.runs++;
    counts.largest ||= 1;
    return model.run(inputs);
  };
  if (options.maxRows <= 1 || !batchable(model.signature)) return { run: runOne, stats };
  const maxRows = options.maxRows;
  let enabled = true;
  let busy = false;
  /** Whether the last run answered more than one request: other clients are sending, and gathering pays. */
  let crowded = false;
  let queue: Pending[] = [];

  /** Each request on its own run: their own answers and their own errors. */
  const alone = async (items: readonly Pending[]): Promise<void> => {
    counts.runs += items.length;
    counts.largest ||= 1;
    await Promise.all(items.map((it) => model.run(it.inputs).then(it.resolve, it.reject)));
  };

  async function runBatch(items: readonly Pending[]): Promise<void> {
    crowded = items.length > 1;
    if (items.length === 1 || !enabled) return alone(items);
    const total = items.reduce((n, it) => n + it.rows, 0);
    let outputs: OutputTensor[];
    counts.runs++;
    try {
      outputs = await model.run(stack(items, total));
    } catch {
      // One request the model refuses must not fail the others: each is run again by itself.
      return alone(items);
    }
    if (!outputs.every((o) => o.shape.length >= 1 && o.shape[0] === total)) {
      // The graph says its first dimension is the batch, but its outputs do not follow the rows.
      enabled = false;
      return alone(items);
    }
    counts.largest = Math.max(counts.largest, items.length);
    split(outputs, items).forEach((answer, i) => items[i]!.resolve(answer));
  }

  /** Runs what queued while the last run ran, as long as anything does. */
  function drain(): void {
    if (queue.length === 0) {
      busy = false;
      return;
    }
    // The first waiting request and every later one it stacks with, up to maxRows; the rest wait their turn, in order.
    const key = queue[0]!.key;
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    let rows = 0;
    for (const p of queue) {
      if (p.key === key && (batch.length === 0 || rows + p.rows <= maxRows)) {
        batch.push(p);
        rows += p.rows;
      } else rest.push(p);
    }
    queue = rest;
    void runBatch(batch)
      .catch((e: unknown) => batch.forEach((p) => p.reject(e)))
      .finally(drain);
  }

  return {
    stats,
    run(inputs) {
      const rows = rowCount(inputs);
      if (!enabled || rows === null || rows >= maxRows) return runOne(inputs);
      counts.requests++;
      if (!busy && !crowded) {
        // A lone client's request (the last run answered one request) runs at once: the batcher does
        // not hold it back for others that are not coming. ONNX Runtime starts the run itself only on
        // the next setImmediate; what arrives meanwhile queues and goes together in the next run.
        busy = true;
        counts.runs++;
        counts.largest ||= 1;
        const first = model.run(inputs);
        void first.then(drain, drain);
        return first;
      }
      return new Promise<OutputTensor[]>((resolve, reject) => {
        queue.push({ inputs, rows, key: stackKey(inputs), resolve, reject });
        if (!busy) {
          // Under concurrent load (the last run answered several), the first request of an idle model
          // waits for the requests that arrived with it (the rest of this turn of the event loop, a few
          // µs), never for a timer: with 8 clients a run then answers about 5 requests, not 3.4.
          busy = true;
          setImmediate(drain);
        }
      });
    },
  };
}

/** The rows of a request: every input's first dimension, when they agree and are not 0; null otherwise (it runs alone). */
function rowCount(inputs: readonly InputTensor[]): number | null {
  let rows: number | null = null;
  for (const t of inputs) {
    const n = t.shape[0];
    if (n === undefined || n === 0 || (rows !== null && n !== rows)) return null;
    rows = n;
  }
  return rows;
}

function stackKey(inputs: readonly InputTensor[]): string {
  let key = '';
  for (const t of inputs) key += `${t.name}\u0000${t.type}\u0000${t.shape.slice(1).join(',')}\u0001`;
  return key;
}

/** The requests' inputs as one, row after row (their keys are equal: same names, order, types, trailing dimensions). */
function stack(items: readonly Pending[], total: number): InputTensor[] {
  return items[0]!.inputs.map((first, j) => {
    const data: (number | boolean | string)[] = [];
    for (const it of items) {
      const d = it.inputs[j]!.data;
      for (let k = 0; k < d.length; k++) data.push(d[k]!);
    }
    return { name: first.name, type: first.type, shape: [total, ...first.shape.slice(1)], data };
  });
}

/** A batch's outputs cut back into each request's rows, in the order the requests were stacked. */
function split(outputs: readonly OutputTensor[], items: readonly Pending[]): OutputTensor[][] {
  const answers: OutputTensor[][] = items.map(() => []);
  for (const o of outputs) {
    const rest = o.shape.slice(1);
    const width = rest.reduce((a, b) => a * b, 1);
    let row = 0;
    items.forEach((it, i) => {
      answers[i]!.push({ name: o.name, type: o.type, shape: [it.rows, ...rest], data: o.data.slice(row * width, (row + it.rows) * width) });
      row += it.rows;
    });
  }
  return answers;
}
