/**
 * Reading an MLflow model registry — from its tracking database
 * (mlflow-db.ts) or its REST server (mlflow-rest.ts) — into models ready to
 * publish: registered models, their versions with their artifacts, tags,
 * aliases, descriptions, and the source runs' params and latest metrics.
 * Each version's artifact directory (a local directory of a file store,
 * objects of an S3 store read through a connector, or files of the server's
 * artifact proxy) becomes a model archive (a tar, made here) and the whole
 * model goes through the same publish path as a bundle (publish-bundle.ts):
 * checked, stored under fresh uids, records last. What cannot be carried
 * over is said per model and per version.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { inspectArchive } from '../archive/index.js';
import { writeTar } from '../archive/tar-writer.js';
import { isMlmodelError, MlmodelError } from '../errors.js';
import { readObject } from '../store/read-object.js';
import { makeStaging } from './staging.js';
import type { JsonValue } from '../store/metadata.js';
import type { ModelFacts, VersionFacts } from './bundle-format.js';
import type { ArtifactFile, MlflowReader } from './mlflow-source.js';
import type { S3Artifacts } from './mlflow-s3.js';

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

const iso = (ms: unknown) => new Date(Number(ms)).toISOString();

/** Pairs as an object when every key can be an options key, else a list of [key, value] pairs (nothing is dropped). */
function keyed(pairs: ReadonlyArray<readonly [string, JsonValue]>): JsonValue {
  const safe = pairs.every(([k]) => k.length > 0 && !k.startsWith('$') && !k.includes('.') && !['__proto__', 'constructor', 'prototype'].includes(k));
  return safe ? Object.fromEntries(pairs) : pairs.map(([k, v]) => [k, v]);
}

export interface ReadMlflowOptions {
  readonly only?: string;
  readonly user: string;
  readonly checkName: (name: string) => string;
  /** Where s3:// artifact URIs are read from (a connector on MLflow's bucket); absent: they are reported, not read. */
  readonly s3?: S3Artifacts;
}

/**
 * Turns each registered model of `reader` (or only `opts.only`) into
 * archives in a private staging directory. `close()` removes them; the
 * reader is closed before this returns.
 */
export async function readMlflowRegistry(reader: MlflowReader, opts: ReadMlflowOptions): Promise<{ models: MlflowModelSource[]; close(): Promise<void> }> {
  const staging = await makeStaging('mlflow');
  const close = () => rm(staging, { recursive: true, force: true });
  try {
    const registered = await reader.models(opts.only);
    if (opts.only !== undefined && registered.length === 0) {
      throw new MlmodelError('MODEL_NOT_FOUND', `the MLflow registry has no registered model ${JSON.stringify(opts.only)}`);
    }
    const models: MlflowModelSource[] = [];
    for (const [i, m] of registered.entries()) {
      const mlflowName = m.name;
      const notes: string[] = [];
      const left: Array<{ version: number; why: string }> = [];
      let name: string;
      try {
        name = opts.checkName(mlflowName);
      } catch (e) {
        models.push({ mlflowName, name: null, model: null, versions: [], left: [], notes: [`not carried over: the name is not one mlmodel accepts (${(e as Error).message}); import it with model=… and name=…`] });
        continue;
      }
      const versions: MlflowVersionSource[] = [];
      let type: ModelFacts['type'] | null = null;
      for (const v of await reader.versions(mlflowName)) {
        if (v.status !== null && v.status !== 'READY') {
          left.push({ version: v.version, why: `status ${v.status}, not READY` });
          continue;
        }
        const where = await reader.artifactUri(mlflowName, v);
        const files = 'why' in where ? where : await artifactFiles(where.uri, reader, opts);
        if ('why' in files) {
          left.push({ version: v.version, why: files.why });
          continue;
        }
        const flavorType = await flavorOf(files);
        if ('why' in flavorType) {
          left.push({ version: v.version, why: flavorType.why });
          continue;
        }
        if (type !== null && flavorType.type !== type) {
          left.push({ version: v.version, why: `a ${flavorType.type} model; earlier versions are ${type}` });
          continue;
        }
        const archivePath = join(staging, `${i}-${v.version}.tar`);
        let report;
        try {
          await pipeline(Readable.from(writeTar(files.map((f) => ({ path: f.path, size: f.size, body: () => f.open() })))), createWriteStream(archivePath, { flags: 'wx', mode: 0o600 }));
          const { passthrough, result } = inspectArchive(createReadStream(archivePath), { type: flavorType.type });
          // Only the report is wanted; a refusal comes through `result`.
          passthrough.on('error', () => undefined);
          passthrough.resume();
          report = await result;
        } catch (e) {
          if (isMlmodelError(e, 'CANCELLED') || isMlmodelError(e, 'STORE_UNAVAILABLE')) throw e;
          await rm(archivePath, { force: true });
          left.push({ version: v.version, why: `its artifacts are not a ${flavorType.type} model archive: ${(e as Error).message}` });
          continue;
        }
        type = flavorType.type;
        const run = v.runId ? await reader.run(v.runId) : { params: [], metrics: [] };
        const options: Record<string, JsonValue> = {};
        if (v.description) options.description = v.description;
        if (run.params.length > 0) options.parameter = keyed(run.params);
        if (run.metrics.length > 0) options.evaluation = keyed(run.metrics);
        if (v.tags.length > 0) options.mlflow_tags = keyed(v.tags);
        if (m.tags.length > 0) options.mlflow_model_tags = keyed(m.tags);
        if (m.description) options.mlflow_model_description = m.description;
        if (v.runId) options.mlflow_run_id = v.runId;
        if (v.stage && v.stage !== 'None') options.mlflow_stage = v.stage;
        if (v.user) options.mlflow_user = v.user;
        versions.push({
          archivePath,
          open: () => Promise.resolve(createReadStream(archivePath)),
          facts: {
            version: v.version,
            format: report.format,
            filename: report.filename,
            category: null,
            algorithm: null,
            create: iso(v.creation),
            modified: iso(v.lastUpdated ?? v.creation),
            imported: iso(v.creation),
            size: report.size,
            sha256: report.sha256,
            tags: [],
            options,
          },
        });
      }
      const carried = new Set(versions.map((v) => v.facts.version));
      const modelAliases = m.aliases.flatMap((a) => {
        if (carried.has(a.version)) return [{ alias: a.alias, version: a.version }];
        notes.push(`alias ${a.alias} not carried over: version ${a.version} was not`);
        return [];
      });
      if (m.tags.length > 0 || m.description) notes.push("the registered model's tags and description are on every version (options mlflow_model_tags, mlflow_model_description)");
      notes.push('run params and latest metrics are options parameter and evaluation (metric history, datasets and other run artifacts are not carried over); MLflow tags are options mlflow_tags');
      models.push({
        mlflowName,
        name,
        model: type === null ? null : { name, user: opts.user, type, category: null, algorithm: null, create: iso(m.creation), aliases: modelAliases },
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
    reader.close();
  }
}

/**
 * A URI as it may be printed: without a user and password an s3 or http URI
 * can carry. A bare name before `@` stays: in wasbs://CONTAINER@ACCOUNT… it
 * is the container, no credential.
 */
const shownUri = (uri: string) => uri.replace(/\/\/[^/@:]*:[^/@]*@/, '//');

/** The files of a version's artifact directory, wherever its URI says they are, or why they cannot be read. */
async function artifactFiles(uri: string, reader: MlflowReader, opts: ReadMlflowOptions): Promise<ArtifactFile[] | { why: string }> {
  try {
    if (uri.startsWith('file://')) return await localFiles(fileURLToPath(uri));
    if (uri.startsWith('/')) return await localFiles(uri);
    if (uri.startsWith('s3://')) {
      if (!opts.s3) return { why: `its artifacts are at ${shownUri(uri)}, in an S3 store: give s3=CONNECTOR, a connector on that bucket, to read them` };
      return await opts.s3.files(uri);
    }
    if (uri.startsWith('mlflow-artifacts:')) {
      if (!reader.proxied) return { why: `its artifacts are at ${shownUri(uri)}, behind an MLflow server's artifact proxy: import with url= (the server) instead of db=` };
      return await reader.proxied(uri);
    }
  } catch (e) {
    if (isMlmodelError(e, 'CANCELLED') || isMlmodelError(e, 'STORE_UNAVAILABLE')) throw e;
    return { why: `its artifacts at ${shownUri(uri)} could not be read: ${(e as Error).message}` };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  const store = scheme === undefined ? undefined : OTHER_STORES[scheme];
  const where = scheme === undefined ? '' : `, in ${store ?? 'a store'} (${scheme}:)`;
  return { why: `its artifacts are at ${shownUri(uri)}${where}, which mlmodel does not read: only a file store on this machine, an S3 store (s3=) or an MLflow server's artifact proxy (url=)` };
}

/** MLflow's other artifact stores, by URI scheme, to say which one a version's artifacts are in. */
const OTHER_STORES: Record<string, string> = {
  wasbs: 'Azure Blob Storage',
  wasb: 'Azure Blob Storage',
  abfss: 'Azure Data Lake Storage',
  abfs: 'Azure Data Lake Storage',
  gs: 'Google Cloud Storage',
  hdfs: 'HDFS',
  viewfs: 'HDFS',
  dbfs: 'Databricks DBFS',
  ftp: 'an FTP store',
  sftp: 'an SFTP store',
  oss: 'Alibaba Cloud OSS',
  http: 'an HTTP artifact store',
  https: 'an HTTP artifact store',
};

/** Every regular file under `dir`, sorted by path (links and other kinds are left out). */
async function localFiles(dir: string): Promise<ArtifactFile[] | { why: string }> {
  const files: ArtifactFile[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    for (const e of (await readdir(abs, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(abs, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p, r);
      else if (e.isFile()) files.push({ path: r, size: (await lstat(p)).size, open: () => Promise.resolve(createReadStream(p)) });
    }
  };
  try {
    await walk(dir, '');
  } catch {
    return { why: `no artifact directory at ${dir}` };
  }
  return files;
}

/** The mlmodel type of an MLflow model directory, from its MLmodel file's flavors. */
async function flavorOf(files: readonly ArtifactFile[]): Promise<{ type: ModelFacts['type'] } | { why: string }> {
  const file = files.find((f) => f.path === 'MLmodel');
  if (!file) return { why: 'no MLmodel file in its artifacts' };
  if (file.size > 1024 * 1024) return { why: 'its MLmodel file is larger than 1 MiB' };
  let flavors: string[];
  try {
    const text = (await readObject({ get: () => file.open() }, 'MLmodel')).toString('utf8');
    // Loaded here, not at the top: the language loads every command module, and the console's start must not pay for YAML.
    const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    const doc = yaml.parse(text) as { flavors?: Record<string, unknown> } | null;
    flavors = Object.keys(doc?.flavors ?? {});
  } catch (e) {
    if (isMlmodelError(e, 'CANCELLED') || isMlmodelError(e, 'STORE_UNAVAILABLE')) throw e;
    return { why: 'its MLmodel file is not YAML' };
  }
  for (const [flavor, type] of FLAVOR_TYPES) if (flavors.includes(flavor)) return { type };
  return { why: `flavors ${flavors.join(', ') || '(none)'}: none is a model type mlmodel imports (${FLAVOR_TYPES.map(([f]) => f).join(', ')})` };
}
