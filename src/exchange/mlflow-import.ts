/**
 * Reading an MLflow model registry from its tracking database (SQLite), as
 * MLflow 2.x/3.x lays it out: registered models, their versions with their
 * artifacts, tags, aliases, descriptions, and the source runs' params and
 * latest metrics. Each version's artifact directory becomes a model archive
 * (a tar, made here) and the whole model goes through the same publish path
 * as a bundle (publish-bundle.ts): checked, stored under fresh uids, records
 * last. What cannot be carried over is said per model and per version.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { inspectArchive } from '../archive/index.js';
import { writeTar, type TarWriteEntry } from '../archive/tar-writer.js';
import { MlmodelError } from '../errors.js';
import { makeStaging } from './staging.js';
import type { JsonValue } from '../store/metadata.js';
import type { ModelFacts, VersionFacts } from './bundle-format.js';

/** MLflow flavors and the mlmodel type whose required file that flavor writes. */
const FLAVOR_TYPES: ReadonlyArray<[string, ModelFacts['type']]> = [
  ['sklearn', 'sklearn'],
  ['onnx', 'onnx'],
  ['tensorflow', 'tf'],
  ['keras', 'tf'],
  ['spark', 'spark'],
  ['crate', 'r'],
];

export interface MlflowVersionSource {
  readonly facts: VersionFacts;
  readonly archivePath: string;
  open(): Promise<Readable>;
}

/** One registered model, ready to publish, with what did not come along. */
export interface MlflowModelSource {
  readonly mlflowName: string;
  /** Its name here, or null when mlmodel refuses the MLflow name. */
  readonly name: string | null;
  readonly model: ModelFacts | null;
  readonly versions: MlflowVersionSource[];
  /** Versions left out, with why. */
  readonly left: Array<{ version: number; why: string }>;
  /** Facts of the model not carried, or carried in another form. */
  readonly notes: string[];
}

type Row = Record<string, unknown>;

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();

/** Pairs as an object when every key can be an options key, else a list of [key, value] pairs (nothing is dropped). */
function keyed(pairs: Array<[string, JsonValue]>): JsonValue {
  const safe = pairs.every(([k]) => k.length > 0 && !k.startsWith('$') && !k.includes('.') && !['__proto__', 'constructor', 'prototype'].includes(k));
  return safe ? Object.fromEntries(pairs) : pairs.map(([k, v]) => [k, v]);
}

/**
 * Opens the tracking database read-only and turns each registered model
 * (or only `only`) into archives in a private staging directory. `close()`
 * removes them.
 */
export async function readMlflowRegistry(dbPath: string, opts: { only?: string; user: string; checkName: (name: string) => string }): Promise<{ models: MlflowModelSource[]; close(): Promise<void> }> {
  const { default: Database } = await import('better-sqlite3');
  let db: import('better-sqlite3').Database;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new MlmodelError('INVALID_ARGUMENT', `cannot open ${dbPath} as an MLflow tracking database: ${(e as Error).message}`, { path: dbPath });
  }
  const staging = await makeStaging('mlflow');
  const close = () => rm(staging, { recursive: true, force: true });
  try {
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Row[]).map((r) => String(r.name)));
    for (const t of ['registered_models', 'model_versions', 'runs']) {
      if (!tables.has(t)) throw new MlmodelError('INVALID_ARGUMENT', `${dbPath} is not an MLflow tracking database (no table ${t})`, { path: dbPath });
    }
    const all = <T = Row>(sql: string, ...args: unknown[]) => (tables.has(/FROM (\w+)/.exec(sql)![1]!) ? (db.prepare(sql).all(...args) as T[]) : []);
    const versionColumns = new Set((db.prepare('PRAGMA table_info(model_versions)').all() as Row[]).map((r) => String(r.name)));
    const registered = all('SELECT name, creation_time, last_updated_time, description FROM registered_models ORDER BY name').filter((m) => opts.only === undefined || m.name === opts.only);
    if (opts.only !== undefined && registered.length === 0) throw new MlmodelError('MODEL_NOT_FOUND', `the MLflow registry has no registered model ${JSON.stringify(opts.only)}`);
    const models: MlflowModelSource[] = [];
    for (const [i, m] of registered.entries()) {
      const mlflowName = String(m.name);
      const notes: string[] = [];
      const left: Array<{ version: number; why: string }> = [];
      let name: string;
      try {
        name = opts.checkName(mlflowName);
      } catch (e) {
        models.push({ mlflowName, name: null, model: null, versions: [], left: [], notes: [`not carried over: the name is not one mlmodel accepts (${(e as Error).message}); import it with model=… and name=…`] });
        continue;
      }
      const modelTags = all<Row>('SELECT key, value FROM registered_model_tags WHERE name = ? ORDER BY key', mlflowName).map((t): [string, JsonValue] => [String(t.key), t.value === null ? null : String(t.value)]);
      const aliases = all<Row>('SELECT alias, version FROM registered_model_aliases WHERE name = ? ORDER BY alias', mlflowName);
      const versions: MlflowVersionSource[] = [];
      let type: ModelFacts['type'] | null = null;
      for (const v of all<Row>('SELECT * FROM model_versions WHERE name = ? ORDER BY CAST(version AS INTEGER)', mlflowName)) {
        const number = Number(v.version);
        if (v.status !== undefined && v.status !== null && v.status !== 'READY') {
          left.push({ version: number, why: `status ${String(v.status)}, not READY` });
          continue;
        }
        const where = resolveArtifacts(db, tables, String((versionColumns.has('storage_location') && v.storage_location) || v.source));
        if ('why' in where) {
          left.push({ version: number, why: where.why });
          continue;
        }
        const flavorType = await flavorOf(where.dir);
        if ('why' in flavorType) {
          left.push({ version: number, why: flavorType.why });
          continue;
        }
        if (type !== null && flavorType.type !== type) {
          left.push({ version: number, why: `a ${flavorType.type} model; earlier versions are ${type}` });
          continue;
        }
        const archivePath = join(staging, `${i}-${number}.tar`);
        await tarDirectory(where.dir, archivePath);
        let report;
        try {
          report = await (async () => {
            const { passthrough, result } = inspectArchive(createReadStream(archivePath), { type: flavorType.type });
            // Only the report is wanted; a refusal comes through `result`.
            passthrough.on('error', () => undefined);
            passthrough.resume();
            return result;
          })();
        } catch (e) {
          left.push({ version: number, why: `its artifacts are not a ${flavorType.type} model archive: ${(e as Error).message}` });
          continue;
        }
        type = flavorType.type;
        const runId = v.run_id === null || v.run_id === undefined ? null : String(v.run_id);
        const params = runId ? all<Row>('SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key', runId).map((p): [string, JsonValue] => [String(p.key), String(p.value)]) : [];
        const metrics = runId ? all<Row>('SELECT key, value FROM latest_metrics WHERE run_uuid = ? ORDER BY key', runId).map((p): [string, JsonValue] => [String(p.key), Number(p.value)]) : [];
        const versionTags = all<Row>('SELECT key, value FROM model_version_tags WHERE name = ? AND version = ? ORDER BY key', mlflowName, String(v.version)).map((t): [string, JsonValue] => [String(t.key), t.value === null ? null : String(t.value)]);
        const options: Record<string, JsonValue> = {};
        if (v.description) options.description = String(v.description);
        if (params.length > 0) options.parameter = keyed(params);
        if (metrics.length > 0) options.evaluation = keyed(metrics);
        if (versionTags.length > 0) options.mlflow_tags = keyed(versionTags);
        if (modelTags.length > 0) options.mlflow_model_tags = keyed(modelTags);
        if (m.description) options.mlflow_model_description = String(m.description);
        if (runId) options.mlflow_run_id = runId;
        if (v.current_stage && v.current_stage !== 'None') options.mlflow_stage = String(v.current_stage);
        if (v.user_id) options.mlflow_user = String(v.user_id);
        versions.push({
          archivePath,
          open: () => Promise.resolve(createReadStream(archivePath)),
          facts: {
            version: number,
            format: report.format,
            filename: report.filename,
            category: null,
            algorithm: null,
            create: iso(v.creation_time),
            modified: iso(v.last_updated_time ?? v.creation_time),
            imported: iso(v.creation_time),
            size: report.size,
            sha256: report.sha256,
            tags: [],
            options,
          },
        });
      }
      const carried = new Set(versions.map((v) => v.facts.version));
      const modelAliases = aliases.flatMap((a) => {
        const version = Number(a.version);
        if (carried.has(version)) return [{ alias: String(a.alias), version }];
        notes.push(`alias ${String(a.alias)} not carried over: version ${version} was not`);
        return [];
      });
      if (modelTags.length > 0 || m.description) notes.push("the registered model's tags and description are on every version (options mlflow_model_tags, mlflow_model_description)");
      notes.push('run params and latest metrics are options parameter and evaluation (metric history, datasets and other run artifacts are not carried over); MLflow tags are options mlflow_tags');
      models.push({
        mlflowName,
        name,
        model:
          type === null
            ? null
            : { name, user: opts.user, type, category: null, algorithm: null, create: iso(m.creation_time), aliases: modelAliases },
        versions,
        left,
        notes,
      });
    }
    return { models, close };
  } catch (e) {
    await close();
    throw e;
  } finally {
    db.close();
  }
}

/** Where a version's artifacts are on this machine, or why they cannot be reached. */
function resolveArtifacts(db: import('better-sqlite3').Database, tables: ReadonlySet<string>, source: string): { dir: string } | { why: string } {
  let uri = source;
  if (uri.startsWith('models:/') && tables.has('logged_models')) {
    const row = db.prepare('SELECT artifact_location FROM logged_models WHERE model_id = ?').get(uri.slice('models:/'.length)) as Row | undefined;
    if (!row) return { why: `its source ${source} names a logged model the database does not hold` };
    uri = String(row.artifact_location);
  } else if (uri.startsWith('runs:/')) {
    const [, runId, ...rest] = uri.slice('runs:/'.length - 1).split('/');
    const row = db.prepare('SELECT artifact_uri FROM runs WHERE run_uuid = ?').get(runId) as Row | undefined;
    if (!row) return { why: `its source ${source} names a run the database does not hold` };
    uri = `${String(row.artifact_uri).replace(/\/+$/, '')}/${rest.join('/')}`;
  }
  if (uri.startsWith('file://')) return { dir: fileURLToPath(uri) };
  if (uri.startsWith('/')) return { dir: uri };
  return { why: `its artifacts are at ${uri.replace(/\/\/[^/@]*@/, '//')}, which only a file artifact store on this machine is read from` };
}

/** The mlmodel type of an MLflow model directory, from its MLmodel file's flavors. */
async function flavorOf(dir: string): Promise<{ type: ModelFacts['type'] } | { why: string }> {
  let text: string;
  try {
    text = await readFile(join(dir, 'MLmodel'), 'utf8');
  } catch {
    return { why: `no MLmodel file in its artifacts (${dir})` };
  }
  let flavors: string[];
  try {
    // Loaded here, not at the top: the language loads every command module, and the console's start must not pay for YAML.
    const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    const doc = yaml.parse(text) as { flavors?: Record<string, unknown> } | null;
    flavors = Object.keys(doc?.flavors ?? {});
  } catch {
    return { why: 'its MLmodel file is not YAML' };
  }
  for (const [flavor, type] of FLAVOR_TYPES) if (flavors.includes(flavor)) return { type };
  return { why: `flavors ${flavors.join(', ') || '(none)'}: none is a model type mlmodel imports (${FLAVOR_TYPES.map(([f]) => f).join(', ')})` };
}

/** A deterministic tar of every regular file under `dir` (sorted paths; links and other kinds are left out). */
async function tarDirectory(dir: string, out: string): Promise<void> {
  const files: Array<{ rel: string; abs: string; size: number }> = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of (await readdir(abs, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(abs, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p, r);
      else if (e.isFile()) files.push({ rel: r, abs: p, size: (await lstat(p)).size });
    }
  };
  await walk(dir, '');
  const entries: TarWriteEntry[] = files.map((f) => ({ path: f.rel, size: f.size, body: async () => createReadStream(f.abs) }));
  await pipeline(Readable.from(writeTar(entries)), createWriteStream(out, { flags: 'wx', mode: 0o600 }));
}
