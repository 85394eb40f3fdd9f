/**
 * An MLflow registry read from its tracking server over MLflow's REST API
 * 2.0: registered-models/search and model-versions/search (paged by
 * next_page_token), model-versions/get-download-uri, runs/get, and the
 * artifact proxy of a server run with --serve-artifacts
 * (mlflow-artifacts/artifacts: listing by ?path=, files by path).
 *
 * Credentials, as MLflow's own clients take them: a URL's user and password,
 * else MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (HTTP Basic),
 * else MLFLOW_TRACKING_TOKEN (a bearer token) — the environment's only for
 * the server MLFLOW_TRACKING_URI names when it is set, so a url= naming
 * another host is not handed them. None goes into a message: every text that
 * names the server names it without them, and what a server answers is
 * cleaned of them.
 */
import { Readable } from 'node:stream';
import type { MlflowClientConfig } from '../config/index.js';
import { redact, redactUrl, type Secret } from '../config/redact.js';
import { MlmodelError } from '../errors.js';
import type { ArtifactFile, MlflowModelVersion, MlflowReader, MlflowRegisteredModel, Pair } from './mlflow-source.js';

/** Each request's bound: a server that stops answering fails the import instead of stalling it. */
const REQUEST_TIMEOUT_MS = 60_000;
/** Bounds on one version's artifact tree as the proxy lists it, against a server that lists without end. */
const MAX_FILES = 10_000;
const MAX_DEPTH = 32;

type Json = Record<string, unknown>;

const list = (v: unknown): Json[] => (Array.isArray(v) ? (v.filter((x) => typeof x === 'object' && x !== null) as Json[]) : []);
const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
const pairs = (v: unknown): Pair[] => list(v).map((t) => [String(t.key), t.value === undefined || t.value === null ? null : String(t.value)] as Pair).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
/** One file name of a proxy listing: a single path segment, nothing that climbs or hides. */
// eslint-disable-next-line no-control-regex -- NUL is what it keeps out
const SAFE_NAME = /^(?!\.\.?$)[^/\\\u0000]{1,255}$/;

/** The Authorization header for `base` (whose user and password are still in it), and what it was made from, for messages. */
function authorization(base: URL, env: MlflowClientConfig | undefined): { header: string; from: string; secrets: Array<Secret | string> } | null {
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  if (base.username || base.password) {
    const password = decodeURIComponent(base.password);
    return { header: basic(decodeURIComponent(base.username), password), from: 'the user and password in url=', secrets: [password, base.password] };
  }
  if (!env) return null;
  if (env.trackingUri !== null && !sameServer(env.trackingUri, base)) return null;
  if ((env.username === null) !== (env.password === null)) {
    throw new MlmodelError('INVALID_ARGUMENT', `${env.username === null ? 'MLFLOW_TRACKING_PASSWORD is set without MLFLOW_TRACKING_USERNAME' : 'MLFLOW_TRACKING_USERNAME is set without MLFLOW_TRACKING_PASSWORD'}: MLflow sends both or neither`);
  }
  if (env.username !== null && env.password !== null) {
    return { header: basic(env.username, env.password.reveal()), from: 'MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD', secrets: [env.password] };
  }
  if (env.token !== null) return { header: `Bearer ${env.token.reveal()}`, from: 'MLFLOW_TRACKING_TOKEN', secrets: [env.token] };
  return null;
}

/** Whether MLFLOW_TRACKING_URI names the server at `base`: the same scheme, host and port. */
function sameServer(trackingUri: string, base: URL): boolean {
  try {
    return new URL(trackingUri).origin === base.origin;
  } catch {
    return false;
  }
}

export function openMlflowRest(url: string, signal: AbortSignal | undefined, env?: MlflowClientConfig): MlflowReader {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new MlmodelError('INVALID_ARGUMENT', `url= is not a URL: ${redactUrl(url)}`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new MlmodelError('INVALID_ARGUMENT', `url= is an http:// or https:// URL of an MLflow tracking server, not ${redactUrl(url)}`);
  const headers: Record<string, string> = { accept: 'application/json' };
  const auth = authorization(base, env);
  if (auth) headers.authorization = auth.header;
  const secrets = auth?.secrets ?? [];
  base.username = '';
  base.password = '';
  base.search = '';
  base.hash = '';
  const root = base.toString().replace(/\/+$/, '');
  const shown = root;

  async function request(path: string, query: Record<string, string> = {}): Promise<Response> {
    const u = new URL(`${root}/${path}`);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    const signals = [AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(signal ? [signal] : [])];
    let res: Response;
    try {
      res = await fetch(u, { headers, signal: AbortSignal.any(signals), redirect: 'error' });
    } catch (e) {
      if (signal?.aborted) throw new MlmodelError('CANCELLED', 'cancelled');
      const why = (e as { cause?: { code?: string; message?: string } }).cause?.code ?? (e as Error).name;
      throw new MlmodelError('STORE_UNAVAILABLE', `the MLflow server at ${shown} did not answer ${path} (${why})`, { url: shown });
    }
    if (!res.ok) {
      const body = await res.text().catch(() => '');
      let detail = body.slice(0, 300);
      try {
        const j = JSON.parse(body) as Json;
        if (typeof j.error_code === 'string') detail = `${j.error_code}: ${String(j.message ?? '')}`.slice(0, 300);
      } catch {
        // Not MLflow's JSON error: the text as it came.
      }
      // A server may echo what it was sent.
      detail = redact(detail, secrets);
      if (res.status === 401 || res.status === 403) {
        const said =
          res.status === 403
            ? `refused ${path} (HTTP 403): ${auth ? `the user of the credentials from ${auth.from}` : 'a caller without credentials'} may not read it`
            : auth
              ? `did not accept the credentials from ${auth.from} (HTTP 401)`
              : 'asks for credentials (HTTP 401): set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN, as for MLflow\'s own client';
        throw new MlmodelError('STORE_ERROR', `the MLflow server at ${shown} ${said}`, { url: shown, status: res.status });
      }
      const code = res.status === 404 ? 'NOT_FOUND' : 'STORE_ERROR';
      throw new MlmodelError(code, `the MLflow server at ${shown} answered ${path} with HTTP ${res.status}${detail ? `: ${detail}` : ''}`, { url: shown, status: res.status });
    }
    return res;
  }
  async function json(path: string, query: Record<string, string> = {}): Promise<Json> {
    const res = await request(path, query);
    try {
      const j = (await res.json()) as unknown;
      if (typeof j === 'object' && j !== null && !Array.isArray(j)) return j as Json;
    } catch {
      // Said below.
    }
    throw new MlmodelError('STORE_ERROR', `the MLflow server at ${shown} answered ${path} with something that is not MLflow's JSON`, { url: shown });
  }
  /** Every item of a paged search, following next_page_token. */
  async function paged(path: string, field: string, query: Record<string, string>): Promise<Json[]> {
    const out: Json[] = [];
    const seen = new Set<string>();
    for (let token: string | null = null; ; ) {
      const page = await json(path, { ...query, ...(token ? { page_token: token } : {}) });
      out.push(...list(page[field]));
      token = text(page.next_page_token);
      if (token === null) return out;
      if (seen.has(token)) throw new MlmodelError('STORE_ERROR', `the MLflow server at ${shown} gave the same page token twice for ${path}`, { url: shown });
      seen.add(token);
    }
  }

  const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return {
    async models(only) {
      const found = await paged('api/2.0/mlflow/registered-models/search', 'registered_models', { max_results: '1000', ...(only === undefined ? {} : { filter: `name = ${quote(only)}` }) });
      return found
        .filter((m) => typeof m.name === 'string' && (only === undefined || m.name === only))
        .map(
          (m): MlflowRegisteredModel => ({
            name: String(m.name),
            creation: Number(m.creation_timestamp ?? 0),
            description: text(m.description),
            tags: pairs(m.tags),
            aliases: list(m.aliases)
              .map((a) => ({ alias: String(a.alias), version: Number(a.version) }))
              .sort((a, b) => (a.alias < b.alias ? -1 : a.alias > b.alias ? 1 : 0)),
          }),
        )
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async versions(name) {
      const found = await paged('api/2.0/mlflow/model-versions/search', 'model_versions', { max_results: '10000', filter: `name = ${quote(name)}` });
      return found
        .filter((v) => v.name === name && Number.isSafeInteger(Number(v.version)))
        .map(
          (v): MlflowModelVersion => ({
            version: Number(v.version),
            status: text(v.status),
            creation: Number(v.creation_timestamp ?? 0),
            lastUpdated: v.last_updated_timestamp === undefined ? null : Number(v.last_updated_timestamp),
            description: text(v.description),
            stage: text(v.current_stage),
            user: text(v.user_id),
            runId: text(v.run_id),
            tags: pairs(v.tags),
          }),
        )
        .sort((a, b) => a.version - b.version);
    },
    async run(runId) {
      let run: Json;
      try {
        run = await json('api/2.0/mlflow/runs/get', { run_id: runId });
      } catch (e) {
        // A version whose run was deleted keeps its artifacts: it comes without params and metrics.
        if (e instanceof MlmodelError && e.code === 'NOT_FOUND') return { params: [], metrics: [] };
        throw e;
      }
      const data = ((run.run as Json | undefined)?.data ?? {}) as Json;
      const byKey = <T>(xs: Array<[string, T]>) => xs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return {
        params: byKey(list(data.params).map((p): [string, string] => [String(p.key), String(p.value)])),
        // runs/get gives each metric's latest value, as the database's latest_metrics does.
        metrics: byKey(list(data.metrics).map((p): [string, number] => [String(p.key), Number(p.value)])),
      };
    },
    async artifactUri(name, v) {
      const got = await json('api/2.0/mlflow/model-versions/get-download-uri', { name, version: String(v.version) });
      const uri = text(got.artifact_uri);
      return uri === null ? { why: 'the server gave no download URI for it' } : { uri };
    },
    async proxied(uri) {
      // mlflow-artifacts:/PATH or mlflow-artifacts://HOST/PATH: PATH is below the proxy's root.
      const path = uri.replace(/^mlflow-artifacts:(\/\/[^/]*)?/, '').replace(/^\/+|\/+$/g, '');
      const files: ArtifactFile[] = [];
      const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');
      const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
        if (depth > MAX_DEPTH) throw new MlmodelError('STORE_ERROR', `the artifacts at ${uri} are nested deeper than ${MAX_DEPTH} directories`, { url: shown });
        const listing = await json('api/2.0/mlflow-artifacts/artifacts', { path: dir });
        const entries = list(listing.files).sort((a, b) => (String(a.path) < String(b.path) ? -1 : 1));
        for (const f of entries) {
          const fname = String(f.path);
          if (!SAFE_NAME.test(fname)) throw new MlmodelError('STORE_ERROR', `the MLflow server listed a file named ${JSON.stringify(fname.slice(0, 80))} under ${uri}: not one file name`, { url: shown });
          const r = rel ? `${rel}/${fname}` : fname;
          if (f.is_dir === true) await walk(`${dir}/${fname}`, r, depth + 1);
          else {
            if (files.length >= MAX_FILES) throw new MlmodelError('STORE_ERROR', `the artifacts at ${uri} are more than ${MAX_FILES} files`, { url: shown });
            const remote = `${dir}/${fname}`;
            const size = Number(f.file_size ?? -1);
            files.push({ path: r, size, open: async () => Readable.fromWeb((await request(`api/2.0/mlflow-artifacts/artifacts/${enc(remote)}`)).body! as import('node:stream/web').ReadableStream) });
          }
        }
      };
      await walk(path, '', 0);
      return files;
    },
    close: () => undefined,
  };
}
