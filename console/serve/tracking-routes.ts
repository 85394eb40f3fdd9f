/**
 * The HTTP endpoints training code logs through (docs/tracking.md): each
 * request becomes one statement of the language — `mlmodel run start`,
 * `mlmodel log metrics ID batch='[…]'`, `mlmodel chart …` — run by the same
 * run loop, with the same authentication, read-only rule, acting as another
 * user (server.ts) and time limit as `POST /query`. This module only
 * translates; it never touches a store. Every name is checked before it is
 * put into the text and every value is quoted, so a request cannot say
 * more than its statement. TRACKING_ENDPOINTS below is the one list of the
 * endpoints: the router and `mlmodel serve --help` both read it.
 *
 * What the route checks itself is what a JSON caller could not otherwise
 * make sense of: an empty list, an option value the statement's parser
 * would refuse with a position in text the caller never wrote (a number
 * JSON cannot hold is refused by the statement builders, statements.ts,
 * for the library too). It answers 400 BAD_REQUEST for a request of the wrong shape,
 * INVALID_ARGUMENT for a value the language refuses.
 */
import type { CommandSyntax, OptionValues } from '../../grammar/command-syntax.js';
import { chartCommand } from '../../src/commands/chart.js';
import type { CommandModule } from '../../src/commands/command.js';
import { runCommand } from '../../src/commands/run.js';
import { runsCommand } from '../../src/commands/runs.js';
import { MlmodelError } from '../../src/errors.js';
import { optionValues } from '../../src/executor/options.js';
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
  runStatement,
  startRunStatement,
} from '../../src/tracking/statements.js';
import { HttpError } from './errors.js';

/** What a request becomes: the statement, and, for one that answers one row, what no row means. */
export interface TrackingStatement {
  readonly text: string;
  readonly none?: () => Error;
}

export interface TrackingRoute {
  readonly methods: readonly string[];
  /** The statement for a request with this method, query string and JSON body. */
  statement(method: string, url: URL, body: Record<string, unknown> | null): TrackingStatement;
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
  /** For an endpoint whose statement answers one row: the error when there is none (GET /runs/{id} of no run). */
  none?(req: TrackingRequest): Error;
}

const bad = (message: string) => new HttpError(400, 'BAD_REQUEST', message);
const invalid = (message: string, details: Record<string, unknown> = {}) => new MlmodelError('INVALID_ARGUMENT', message, details);

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

/** name: value pairs (params, tags); at least one when `required`. The statement checks each value. */
function pairs(body: Record<string, unknown> | null, field: string, required: boolean): Record<string, unknown> {
  const values = object(body, field, required);
  if (required && Object.keys(values).length === 0) throw invalid(`"${field}" is empty: give at least one "name": value`);
  return values;
}

/** Batch points as sent, at least one; the statement and the command check each point. */
function points(list: readonly unknown[]): readonly unknown[] {
  if (list.length === 0) throw invalid('"metrics" is empty: give at least one {"key", "value", "step"}');
  return list;
}

/**
 * A request's text read as `command`'s option `key` is read (its type, its
 * range, an enum's case): the one reading the statement's parser applies,
 * here before the statement is written, so that a bad value is refused
 * naming the request's field.
 */
function option<S extends CommandSyntax, K extends keyof OptionValues<S> & string>(command: CommandModule<S>, key: K, value: string): OptionValues<S>[K] {
  return optionValues(command.syntax, [{ key, value }])[key];
}

/** A query parameter given at most once (also the server's `user=`). */
export function param(url: URL, name: string): string | undefined {
  const all = url.searchParams.getAll(name);
  if (all.length > 1) throw bad(`${name}= is given ${all.length} times; give it once`);
  return all[0];
}

/** `stale=` of GET /runs and /runs/{id}, checked as the runs command reads it and passed on as typed. */
function stale(url: URL): string | undefined {
  const s = param(url, 'stale');
  if (s !== undefined) option(runsCommand, 'stale', s);
  return s;
}

const STATUS = runCommand.syntax.options.status;

/** Every tracking endpoint, in the order help lists them. */
export const TRACKING_ENDPOINTS: readonly TrackingEndpoint[] = [
  {
    method: 'POST',
    path: '/runs',
    summary: 'start a run: {"experiment", "name", "params": {…}}',
    statement: ({ body }) => startRunStatement({ experiment: text(body, 'experiment'), name: text(body, 'name'), params: pairs(body, 'params', false) }),
  },
  {
    method: 'GET',
    path: '/runs',
    summary: 'the runs listing: ?experiment=E…&stale=10m',
    statement: ({ url }) => runsStatement(url.searchParams.getAll('experiment'), stale(url)),
  },
  {
    method: 'GET',
    path: '/runs/{id}',
    summary: 'one run, as the listing shows it: ?stale=10m',
    statement: ({ id, url }) => runStatement(id!, stale(url)),
    none: ({ id }) => new MlmodelError('NOT_FOUND', `no run ${id}`, { run: id }),
  },
  {
    method: 'POST',
    path: '/runs/{id}/params',
    summary: 'log parameters: {"params": {…}}',
    statement: ({ id, body }) => logParamsStatement(id!, pairs(body, 'params', true)),
  },
  {
    method: 'POST',
    path: '/runs/{id}/tags',
    summary: 'set tags: {"tags": {…}}',
    statement: ({ id, body }) => logTagsStatement(id!, pairs(body, 'tags', true)),
  },
  {
    method: 'POST',
    path: '/runs/{id}/metrics',
    summary: 'log metrics: {"metrics": [{"key", "value", "step"}…]} or {"step": N, "values": {…}}',
    statement({ id, body }) {
      if (body?.metrics !== undefined) {
        if (!Array.isArray(body.metrics)) throw bad('"metrics" must be a list of {"key", "value", "step"}');
        return logMetricsStatement(id!, points(body.metrics), body.step);
      }
      if (body?.step === undefined) throw bad('give "metrics": [{"key", "value", "step"}…], or "step" and "values": {…}');
      const values = object(body, 'values', true);
      if (Object.keys(values).length === 0) throw invalid('"values" is empty: give at least one "name": number');
      return logValuesStatement(id!, values, body.step);
    },
  },
  {
    method: 'POST',
    path: '/runs/{id}/end',
    summary: `end a run: {"status": ${STATUS.values.join('|')}}`,
    statement({ id, body }) {
      const given = text(body, 'status');
      if (given === undefined) return endRunStatement(id!);
      let status: string | undefined;
      try {
        status = option(runCommand, 'status', given);
      } catch {
        throw invalid(`"status" must be one of ${STATUS.values.join(', ')}, not ${JSON.stringify(given)}`, { valid: [...STATUS.values] });
      }
      return endRunStatement(id!, status);
    },
  },
  {
    method: 'GET',
    path: '/runs/{id}/metrics/{key}',
    summary: "one metric's history",
    // The name is checked by the statement: an invalid one is a 400 saying why, not an unknown route.
    statement: ({ id, key }) => metricStatement(id!, key!),
  },
  {
    method: 'GET',
    path: '/runs/{id}/chart',
    summary: 'chart data: ?metric=M&metric=…&points=N',
    statement({ id, url }) {
      const given = param(url, 'points');
      const metrics = url.searchParams.getAll('metric');
      if (metrics.length === 0) throw bad('name the metrics to chart: ?metric=loss&metric=acc');
      return chartStatement(id!, metrics, given === undefined ? undefined : option(chartCommand, 'points', given));
    },
  },
];

/** The path's `{id}` and `{key}` when `path` has the shape of `template`, else null (an id that is not one is no route). */
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
    if (w === '{key}') {
      found.key = segment;
      continue;
    }
    try {
      found.id = parseRunId(segment);
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
      const { endpoint, parts } = matched.find((x) => x.endpoint.method === method)!;
      const req = { ...parts, url, body };
      const none = endpoint.none;
      return { text: endpoint.statement(req), ...(none ? { none: () => none(req) } : {}) };
    },
  };
}
