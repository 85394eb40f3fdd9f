/**
 * The HTTP endpoints training code logs through (docs/tracking.md): each
 * request becomes one statement of the language — `mlmodel run start`,
 * `mlmodel log metrics ID batch='[…]'`, `mlmodel chart …` — run by the same
 * run loop, with the same authentication, read-only rule and time limit as
 * `POST /query`. This module only translates; it never touches a store.
 * Every name is checked before it is put into the text and every value is
 * quoted, so a request cannot say more than its statement.
 *
 *   POST /runs                       {"experiment", "name", "params": {…}}
 *   GET  /runs?experiment=E…         the runs listing
 *   POST /runs/{id}/params           {"params": {…}}
 *   POST /runs/{id}/tags             {"tags": {…}}
 *   POST /runs/{id}/metrics          {"metrics": [{"key", "value", "step", "time"?}…]} or {"step": N, "values": {…}}
 *   POST /runs/{id}/end              {"status": "FINISHED"|"FAILED"|"KILLED"}
 *   GET  /runs/{id}/metrics/{key}    one metric's history
 *   GET  /runs/{id}/chart?metric=…&points=N   chart data
 */
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

/** The route a `/runs…` path names, or null when it is not a tracking path. */
export function trackingRoute(path: string): TrackingRoute | null {
  if (path === '/runs') {
    return {
      methods: ['GET', 'POST'],
      statement(method, url, body) {
        if (method === 'GET') return runsStatement(url.searchParams.getAll('experiment'));
        return startRunStatement({ experiment: text(body, 'experiment'), name: text(body, 'name'), params: object(body, 'params', false) });
      },
    };
  }
  const m = /^\/runs\/([^/]+)\/(params|tags|metrics|end|chart)(?:\/([^/]+))?$/.exec(path);
  if (!m) return null;
  let id: number;
  let key: string | undefined;
  try {
    id = parseRunId(decodeURIComponent(m[1]!));
    key = m[3] === undefined ? undefined : checkKey('metric', decodeURIComponent(m[3]));
  } catch {
    return null;
  }
  const what = m[2]!;
  if (key !== undefined && what !== 'metrics') return null;
  switch (what) {
    case 'params':
      return { methods: ['POST'], statement: (_m, _u, body) => logParamsStatement(id, object(body, 'params', true)) };
    case 'tags':
      return { methods: ['POST'], statement: (_m, _u, body) => logTagsStatement(id, object(body, 'tags', true)) };
    case 'end':
      return { methods: ['POST'], statement: (_m, _u, body) => endRunStatement(id, text(body, 'status')) };
    case 'chart':
      return {
        methods: ['GET'],
        statement(_m, url) {
          const points = url.searchParams.get('points');
          if (points !== null && !/^\d{1,6}$/.test(points)) throw bad('points must be a whole number');
          const metrics = url.searchParams.getAll('metric');
          if (metrics.length === 0) throw bad('name the metrics to chart: ?metric=loss&metric=acc');
          return chartStatement(id, metrics, points === null ? undefined : Number(points));
        },
      };
    default:
      if (key !== undefined) return { methods: ['GET'], statement: () => metricStatement(id, key) };
      return {
        methods: ['POST'],
        statement(_m, _u, body) {
          if (body?.metrics !== undefined) {
            if (!Array.isArray(body.metrics)) throw bad('"metrics" must be a list of {"key", "value", "step"}');
            return logMetricsStatement(id, body.metrics, body.step);
          }
          if (body?.step === undefined) throw bad('give "metrics": [{"key", "value", "step"}…], or "step" and "values": {…}');
          return logValuesStatement(id, object(body, 'values', true), body.step);
        },
      };
  }
}
