/**
 * The HTTP endpoints training code logs through (docs/tracking.md): each
 * request becomes one statement of the language — `mlmodel run start`,
 * `mlmodel log metrics ID batch='[…]'`, `mlmodel chart …` — run by the same
 * run loop, with the same authentication, read-only rule and time limit as
 * `POST /query`. This module only translates; it never touches a store.
 * Every name is checked before it is put into the text and every value is
 * quoted, so a request cannot say more than its statement.
 * TRACKING_ENDPOINTS below is the one list of the endpoints: the router and
 * `mlmodel serve --help` both read it.
 */
import { runCommand } from '../../src/commands/run.js';
import { parseRunId } from '../../src/tracking/runs.js';
import {
  chartStatement,
  endRunStatement,
  logMetricsStatement,
  logParamsStatement,
  logTagsStatement,
  logValuesStatement,
  metricStatement,
  runsStatement,
  startRunStatement,
} from '../../src/tracking/statements.js';
import { checkKey } from '../../src/tracking/store.js';
import { HttpError } from './errors.js';

export interface TrackingRoute {
  readonly methods: readonly string[];
  /** The statement for a request with this method, query string and JSON body. */
  statement(method: string, url: URL, body: Record<string, unknown> | null): string;
}

/** The parts of a request an endpoint reads: the path's run id and metric name (when its path has them), the query string and the body. */
interface TrackingRequest {
  readonly id?: number;
  readonly key?: string;
  readonly url: URL;
  readonly body: Record<string, unknown> | null;
}

export interface TrackingEndpoint {
  readonly method: 'GET' | 'POST';
  /** The path; `{id}` is a run id, `{key}` a metric name. */
  readonly path: string;
  /** What it takes and answers, in a line, for `mlmodel serve --help`. */
  readonly summary: string;
  statement(req: TrackingRequest): string;
}

const bad = (message: string) => new HttpError(400, 'BAD_REQUEST', message);

function object(body: Record<string, unknown> | null, field: string, required: boolean): Record<string, unknown> {
  const v = body?.[field];
  if (v === undefined && !required) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`"${field}" must be a JSON object of name: value`);
  return v as Record<string, unknown>;
}

function text(body: Record<string, unknown> | null, field: string): string | undefined {
  const v = body?.[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`"${field}" must be a string`);
  return v;
}

const STATUS = runCommand.syntax.options.status;

/** Every tracking endpoint, in the order help lists them. */
export const TRACKING_ENDPOINTS: readonly TrackingEndpoint[] = [
  {
    method: 'POST',
    path: '/runs',
    summary: 'start a run: {"experiment", "name", "params": {…}}',
    statement: ({ body }) => startRunStatement({ experiment: text(body, 'experiment'), name: text(body, 'name'), params: object(body, 'params', false) }),
  },
  {
    method: 'GET',
    path: '/runs',
    summary: 'the runs listing: ?experiment=E…',
    statement: ({ url }) => runsStatement(url.searchParams.getAll('experiment')),
  },
  {
    method: 'POST',
    path: '/runs/{id}/params',
    summary: 'log parameters: {"params": {…}}',
    statement: ({ id, body }) => logParamsStatement(id!, object(body, 'params', true)),
  },
  {
    method: 'POST',
    path: '/runs/{id}/tags',
    summary: 'set tags: {"tags": {…}}',
    statement: ({ id, body }) => logTagsStatement(id!, object(body, 'tags', true)),
  },
  {
    method: 'POST',
    path: '/runs/{id}/metrics',
    summary: 'log metrics: {"metrics": [{"key", "value", "step"}…]} or {"step": N, "values": {…}}',
    statement({ id, body }) {
      if (body?.metrics !== undefined) {
        if (!Array.isArray(body.metrics)) throw bad('"metrics" must be a list of {"key", "value", "step"}');
        return logMetricsStatement(id!, body.metrics, body.step);
      }
      if (body?.step === undefined) throw bad('give "metrics": [{"key", "value", "step"}…], or "step" and "values": {…}');
      return logValuesStatement(id!, object(body, 'values', true), body.step);
    },
  },
  {
    method: 'POST',
    path: '/runs/{id}/end',
    summary: `end a run: {"status": ${STATUS.values.join('|')}}`,
    statement: ({ id, body }) => endRunStatement(id!, text(body, 'status')),
  },
  {
    method: 'GET',
    path: '/runs/{id}/metrics/{key}',
    summary: "one metric's history",
    statement: ({ id, key }) => metricStatement(id!, key!),
  },
  {
    method: 'GET',
    path: '/runs/{id}/chart',
    summary: 'chart data: ?metric=M&metric=…&points=N',
    statement({ id, url }) {
      const points = url.searchParams.get('points');
      if (points !== null && !/^\d{1,6}$/.test(points)) throw bad('points must be a whole number');
      const metrics = url.searchParams.getAll('metric');
      if (metrics.length === 0) throw bad('name the metrics to chart: ?metric=loss&metric=acc');
      return chartStatement(id!, metrics, points === null ? undefined : Number(points));
    },
  },
];

/** The path's `{id}` and `{key}` when `path` has the shape of `template`, else null (an id or a name that is not one is no route). */
function match(template: string, path: string): { id?: number; key?: string } | null {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const found: { id?: number; key?: string } = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w !== '{id}' && w !== '{key}') {
      if (w !== got[i]) return null;
      continue;
    }
    let segment: string;
    try {
      segment = decodeURIComponent(got[i]!);
    } catch {
      return null;
    }
    try {
      if (w === '{key}') found.key = checkKey('metric', segment);
      else found.id = parseRunId(segment);
    } catch {
      return null;
    }
  }
  return found;
}

/** The route a `/runs…` path names, or null when it is not a tracking path. */
export function trackingRoute(path: string): TrackingRoute | null {
  const matched = TRACKING_ENDPOINTS.flatMap((e) => {
    const parts = match(e.path, path);
    return parts ? [{ endpoint: e, parts }] : [];
  });
  if (matched.length === 0) return null;
  return {
    methods: matched.map((m) => m.endpoint.method),
    statement(method, url, body) {
      const m = matched.find((x) => x.endpoint.method === method)!;
      return m.endpoint.statement({ ...m.parts, url, body });
    },
  };
}
