import { existsSync, readFileSync } from 'node:fs';
import { isUserName, USER_NAME_RULE } from '../engine/user-name.js';
import { createRequire } from 'node:module';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { readOptionValue } from '../../grammar/command-syntax.js';
import { nearest } from '../../grammar/suggest.js';
import { MlmodelError } from '../errors.js';
import {
  describeLocation,
  parseFileLocation,
  parseLocation,
  parseS3Url,
  type Location,
  type S3Location,
} from './location.js';
import { redactUrl, Secret } from './redact.js';

/**
 * The YAML parser, loaded only when there is a config file to read: a
 * run on the defaults or on environment variables never pays for it.
 */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  // logLevel 'error': a warning would go to stderr through process.emitWarning, quoting the file.
  return yaml.parse(text, { logLevel: 'error' });
}

/**
 * What a YAML error code means, in words of our own: the parser's message
 * quotes the offending line, and that line may be the one holding a
 * secret_key or a token, so it is never shown.
 */
const YAML_PROBLEMS: Record<import('yaml').ErrorCode, string> = {
  ALIAS_PROPS: 'an alias with an anchor or a tag',
  BAD_ALIAS: 'an empty or ambiguous anchor or alias',
  BAD_DIRECTIVE: 'a malformed % directive',
  BAD_DQ_ESCAPE: 'an invalid escape in a double-quoted string',
  BAD_INDENT: 'inconsistent indentation',
  BAD_PROP_ORDER: 'an anchor or a tag in the wrong place',
  BAD_SCALAR_START: 'a plain value starting with a reserved character (quote the value)',
  BLOCK_AS_IMPLICIT_KEY: 'a nested mapping where a plain value was expected (a value holding ": " must be quoted)',
  BLOCK_IN_FLOW: 'a block collection inside [ ] or { }',
  DUPLICATE_KEY: 'a key given twice in one mapping',
  IMPOSSIBLE: 'a malformed block',
  KEY_OVER_1024_CHARS: 'a key over 1024 characters',
  MISSING_CHAR: 'a missing character (a closing quote, a space after ":", a "," or a "-")',
  MULTILINE_IMPLICIT_KEY: 'a key spread over several lines',
  MULTIPLE_ANCHORS: 'a value with two anchors',
  MULTIPLE_DOCS: 'more than one YAML document',
  MULTIPLE_TAGS: 'a value with two tags',
  NON_STRING_KEY: 'a key that is not a string',
  RESOURCE_EXHAUSTION: 'too many aliases expanded',
  TAB_AS_INDENT: 'a tab used for indentation',
  TAG_RESOLVE_FAILED: 'an unknown ! tag (a value starting with "!" must be quoted)',
  UNEXPECTED_TOKEN: 'an unexpected character',
  BAD_COLLECTION_TYPE: 'a collection of the wrong kind for its tag',
};

/** A YAML parse failure as one line naming the place and the kind of problem, quoting nothing of the file. */
function yamlProblem(e: unknown): string {
  const err = e as { name?: unknown; code?: unknown; linePos?: Array<{ line: number; col: number }> };
  if (err.name !== 'YAMLParseError' || typeof err.code !== 'string') return 'not readable as YAML';
  const where = err.linePos?.[0] ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
  const what = YAML_PROBLEMS[err.code as import('yaml').ErrorCode] ?? 'a syntax error';
  return `not valid YAML${where}: ${what} (the line is not shown: it may hold a secret)`;
}

/**
 * A key of the config file as an error message may quote it: a short plain
 * word (a misspelt setting) is shown; anything else might be a token or a
 * secret that lost its indentation (every http token is 16 characters or
 * more), so only its length is.
 */
function shownKey(key: string): string {
  return /^[A-Za-z][A-Za-z0-9_-]{0,14}$/.test(key) ? `"${key}"` : `of ${[...key].length} characters (not shown: it may be a secret)`;
}

export { redact, redactError, redactor, Secret, REDACTED } from './redact.js';
export { describeLocation, parseS3Url, parseFileLocation, parseLocation } from './location.js';
export type { S3Location, FileLocation, Location } from './location.js';

/** Where a setting's value came from, lowest precedence first. */
export type Origin = 'default' | 'file' | 'env' | 'option';

export interface MongoMetadataConfig {
  kind: 'mongodb';
  /** The full connection string, credentials included: reveal only to the driver. */
  url: Secret;
  /** The same URL with the password hidden, for printing. */
  display: string;
  database: string;
}

export interface SqliteMetadataConfig {
  kind: 'sqlite';
  path: string;
}

export interface MinioObjectsConfig {
  kind: 'minio';
  location: S3Location;
}

export interface DirectoryObjectsConfig {
  kind: 'directory';
  path: string;
}

/** `mlmodel serve`: who may call it and where its local paths may point (the `http:` section of the config file). */
export interface HttpConfig {
  /** Bearer token → user. Empty: the server answers on loopback only, as `user`. */
  tokens: ReadonlyMap<Secret, string>;
  /** Users whose requests may name another user to act as. */
  admins: readonly string[];
  /** Users who may only read: the server refuses them every command whose module declares it writes. */
  readers: readonly string[];
  /** Directories `path=/abs` may use over HTTP; none configured: local paths are refused there. */
  localRoots: readonly string[];
  /** Per-query time limit in seconds, or null for the server's default. */
  queryTimeout: number | null;
  /** Host names (`name` or `name:port`) accepted besides loopback and the bound address; `*`: any (no DNS-rebinding check). */
  allowedHosts: readonly string[];
  /** Origins (`scheme://host[:port]`) that may call cross-origin; `*`: any. Empty: same-origin only. */
  allowedOrigins: readonly string[];
}

export interface Config {
  home: string;
  /** The config file that was read, or null when there was none. */
  configFile: string | null;
  user: string;
  metadata: MongoMetadataConfig | SqliteMetadataConfig;
  objects: MinioObjectsConfig | DirectoryObjectsConfig;
  servingBase: Location;
  /** Named connectors for `OBJECTSTORAGE.<NAME>:<KEY>`, keyed by upper-case name. */
  connectors: Record<string, Location>;
  historyFile: string;
  http: HttpConfig;
  /**
   * Where every deployed version is pushed as a bundle (FATE-Flow's
   * enable_model_store; docs/exchange.md): `OBJECTSTORAGE.<NAME>:<prefix>` or
   * an absolute directory, checked like a `path=`; null: no push.
   */
  modelStore: string | null;
  /**
   * Other registries this one syncs with (`mlmodel sync … to=NAME|from=NAME`,
   * docs/exchange.md), keyed by lower-case name: each is another registry's
   * metadata store, object store and serving base.
   */
  registries: Record<string, RemoteRegistryConfig>;
  /** The credentials MLflow's own clients take from the environment, for `mlmodel mlflow url=` (docs/commands/mlflow.md). */
  mlflow: MlflowClientConfig;
  tracking: TrackingConfig;
  origin: {
    home: Origin;
    user: Origin;
    metadata: Origin;
    objects: Origin;
    servingBase: Origin;
    connectors: Record<string, Origin>;
  };
  /** Every credential in this config, for `redact(text, config.secrets)`. */
  secrets: Secret[];
}

export interface TrackingConfig {
  /**
   * Seconds without a point after which a RUNNING run shows stale (config
   * `tracking.stale_after`, e.g. `15m`): the writer has stopped sending
   * without ending its run. `mlmodel runs stale=` overrides it per query.
   */
  staleAfter: number;
}

/** A RUNNING run with no point for 10 minutes shows stale, unless the config or the query says otherwise. */
export const DEFAULT_STALE_AFTER_SECONDS = 600;

/**
 * What an MLflow client reads from the environment to reach a tracking
 * server: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (HTTP Basic)
 * or MLFLOW_TRACKING_TOKEN (a bearer token), and MLFLOW_TRACKING_URI, the
 * server they are for.
 */
export interface MlflowClientConfig {
  trackingUri: string | null;
  username: string | null;
  password: Secret | null;
  token: Secret | null;
}

/**
 * A registry reached as a remote: the stores another mlmodel opens with the
 * same settings. An embedded one is its home directory (mlmodel.db,
 * objects/, serving/ inside); a server one names its MongoDB and MinIO.
 */
export interface RemoteRegistryConfig {
  metadata: MongoMetadataConfig | SqliteMetadataConfig;
  objects: MinioObjectsConfig | DirectoryObjectsConfig;
  servingBase: Location;
  /** One line for messages, without secrets. */
  display: string;
}

/** What command-line flags can set; each wins over env and file. */
export interface ConfigOptions {
  home?: string;
  config?: string;
  user?: string;
  mongodbUrl?: string;
  minioUrl?: string;
  servingBase?: string;
  /** Base directory for relative --home/--config paths (default: env PWD or process.cwd()). */
  cwd?: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Keys a config file may hold; anything else is refused so a typo is not silently ignored. */
const FILE_KEYS = ['user', 'mongodb_url', 'minio_url', 'serving_base', 'model_store', 'connectors', 'registries', 'http', 'tracking'] as const;
const TRACKING_KEYS = ['stale_after'] as const;
const REGISTRY_KEYS = ['home', 'mongodb_url', 'minio_url', 'serving_base'] as const;
const REGISTRY_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const HTTP_KEYS = ['tokens', 'admins', 'readers', 'local_roots', 'query_timeout', 'allowed_hosts', 'allowed_origins'] as const;
const CONNECTOR_KEYS = ['url', 'endpoint', 'bucket', 'prefix', 'access_key', 'secret_key', 'region', 'path'] as const;
const CONNECTOR_NAME = /^[A-Z0-9][A-Z0-9_-]*$/;

interface FileSettings {
  user?: string;
  mongodb_url?: string;
  minio_url?: string;
  serving_base?: string;
  model_store?: string;
  connectors?: Record<string, unknown>;
  registries?: Record<string, unknown>;
  http?: Record<string, unknown>;
  tracking?: Record<string, unknown>;
}

/**
 * Builds the configuration from explicit inputs only: the environment object
 * and the flags given here (no hidden reads of process.env). Precedence:
 * options > env > config file > defaults.
 */
export function loadConfig(env: Env, options: ConfigOptions = {}): Config {
  const cwd = options.cwd ?? env.PWD ?? process.cwd();
  const userHome = env.HOME && env.HOME.length > 0 ? env.HOME : homedir();

  let homeOrigin: Origin = 'default';
  let home = join(userHome, '.mlmodel');
  if (env.MLMODEL_HOME) {
    home = resolve(cwd, expandTilde(env.MLMODEL_HOME, userHome));
    homeOrigin = 'env';
  }
  if (options.home) {
    home = resolve(cwd, expandTilde(options.home, userHome));
    homeOrigin = 'option';
  }

  // The config file: an explicitly named one must exist; the default one may not.
  let configFile: string | null = null;
  const named = options.config ?? env.MLMODEL_CONFIG;
  if (named) {
    configFile = resolve(cwd, expandTilde(named, userHome));
    if (!existsSync(configFile)) {
      throw new MlmodelError('CONFIG_INVALID', `config file not found: ${configFile}`, { path: configFile });
    }
  } else if (existsSync(join(home, 'config.yaml'))) {
    configFile = join(home, 'config.yaml');
  }
  const file = configFile ? readConfigFile(configFile) : {};

  const secrets: Secret[] = [];
  const pick = (opt: string | undefined, envValue: string | undefined, fileValue: string | undefined) => {
    if (opt !== undefined && opt !== '') return { value: opt, origin: 'option' as Origin };
    if (envValue !== undefined && envValue !== '') return { value: envValue, origin: 'env' as Origin };
    if (fileValue !== undefined && fileValue !== '') return { value: fileValue, origin: 'file' as Origin };
    return undefined;
  };

  // Current user.
  const userPick = pick(options.user, env.MLMODEL_USER, file.user);
  const user = userPick?.value ?? env.USER ?? env.LOGNAME ?? safeUserName() ?? 'root';
  if (!isUserName(user)) {
    throw new MlmodelError('CONFIG_INVALID', `user ${JSON.stringify(user)} is not allowed (${USER_NAME_RULE})`);
  }

  // Metadata store.
  const mongoPick = pick(options.mongodbUrl, env.MLMODEL_MONGODB_URL, file.mongodb_url);
  let metadata: Config['metadata'];
  if (mongoPick) {
    const what = settingName('mongodb', mongoPick.origin);
    const parsed = parseMongoUrl(mongoPick.value, what);
    metadata = { kind: 'mongodb', url: new Secret(mongoPick.value), display: redactUrl(mongoPick.value), database: parsed.database };
    if (parsed.password) secrets.push(...secretForms(parsed.password));
    secrets.push(...typedPassword(mongoPick.value));
  } else {
    metadata = { kind: 'sqlite', path: join(home, 'mlmodel.db') };
  }

  // Object store.
  const minioPick = pick(options.minioUrl, env.MLMODEL_MINIO_URL, file.minio_url);
  let objects: Config['objects'];
  if (minioPick) {
    const location = parseS3Url(minioPick.value, settingName('minio', minioPick.origin), 'mlmodel');
    objects = { kind: 'minio', location };
    secrets.push(...secretForms(location.secretKey), ...typedPassword(minioPick.value));
  } else {
    objects = { kind: 'directory', path: join(home, 'objects') };
  }

  // Serving base.
  const servingPick = pick(options.servingBase, env.MLMODEL_SERVING_BASE, file.serving_base);
  const servingBase: Location = servingPick
    ? parseLocation(servingPick.value, settingName('serving', servingPick.origin))
    : { kind: 'file', path: join(home, 'serving') };
  if (servingBase.kind === 's3') secrets.push(...secretForms(servingBase.secretKey), ...typedPassword(servingPick!.value));

  // Connectors: the file's, then env's (an env connector replaces a file one of the same name).
  const connectors: Record<string, Location> = {};
  const connectorOrigin: Record<string, Origin> = {};
  for (const [rawName, value] of Object.entries(file.connectors ?? {})) {
    const name = normalizeConnectorName(rawName, `connectors in ${configFile ?? 'the config file'}`);
    connectors[name] = parseFileConnector(value, `connectors.${rawName}`);
    connectorOrigin[name] = 'file';
  }
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('MLMODEL_CONNECTOR_') || value === undefined || value === '') continue;
    const name = normalizeConnectorName(key.slice('MLMODEL_CONNECTOR_'.length), key);
    connectors[name] = parseLocation(value, key);
    connectorOrigin[name] = 'env';
    if (connectors[name]!.kind === 's3') secrets.push(...typedPassword(value));
  }
  for (const loc of Object.values(connectors)) if (loc.kind === 's3') secrets.push(...secretForms(loc.secretKey));

  const storePick = pick(undefined, env.MLMODEL_MODEL_STORE, file.model_store);
  if (storePick) {
    const text = storePick.value;
    // The same spellings `path=` takes (executor/location.ts), checked here so a typo fails at start.
    const connector = /^OBJECTSTORAGE\.([A-Za-z0-9][A-Za-z0-9_-]*):/i.exec(text);
    if (connector ? /(^|\/)\.\.?(\/|$)|\/\/|^\/|[\\#;]/.test(text.slice(connector[0].length)) : !/^(FILE:)?\/(?!\/)/i.test(text) || /(^|\/)\.\.?(\/|$)/.test(text)) {
      throw new MlmodelError('CONFIG_INVALID', `${storePick.origin === 'env' ? 'MLMODEL_MODEL_STORE' : 'model_store'}: expected OBJECTSTORAGE.<CONNECTOR>:<PREFIX> or an absolute directory, got ${JSON.stringify(text)}`);
    }
  }

  // Remote registries: the file's, then env's MLMODEL_REGISTRY_<NAME>=<home of an embedded registry>.
  const registries: Record<string, RemoteRegistryConfig> = {};
  for (const [rawName, value] of Object.entries(file.registries ?? {})) {
    const name = normalizeRegistryName(rawName, `registries in ${configFile ?? 'the config file'}`);
    registries[name] = parseRemoteRegistry(value, `registries.${rawName}`, secrets);
  }
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('MLMODEL_REGISTRY_') || value === undefined || value === '') continue;
    registries[normalizeRegistryName(key.slice('MLMODEL_REGISTRY_'.length), key)] = parseRemoteRegistry({ home: value }, key, secrets);
  }

  const http = parseHttpSection(file.http ?? {}, configFile ?? 'the config file', env);
  const tracking = parseTrackingSection(file.tracking ?? {}, configFile ?? 'the config file');
  secrets.push(...http.tokens.keys());

  const envText = (v: string | undefined) => (v === undefined || v === '' ? null : v);
  const mlflow: MlflowClientConfig = {
    trackingUri: envText(env.MLFLOW_TRACKING_URI),
    username: envText(env.MLFLOW_TRACKING_USERNAME),
    password: envText(env.MLFLOW_TRACKING_PASSWORD) === null ? null : new Secret(env.MLFLOW_TRACKING_PASSWORD!),
    token: envText(env.MLFLOW_TRACKING_TOKEN) === null ? null : new Secret(env.MLFLOW_TRACKING_TOKEN!),
  };
  if (mlflow.password) secrets.push(...secretForms(mlflow.password));
  if (mlflow.token) secrets.push(...secretForms(mlflow.token));

  return {
    home,
    configFile,
    user,
    metadata,
    objects,
    servingBase,
    connectors,
    historyFile: join(home, 'history'),
    http,
    modelStore: storePick?.value ?? null,
    registries,
    mlflow,
    tracking,
    origin: {
      home: homeOrigin,
      user: userPick?.origin ?? 'default',
      metadata: mongoPick?.origin ?? 'default',
      objects: minioPick?.origin ?? 'default',
      servingBase: servingPick?.origin ?? 'default',
      connectors: connectorOrigin,
    },
    // One of each value: a typed password without escapes is the parsed one.
    secrets: secrets.filter((s, i) => !s.isEmpty && secrets.findIndex((t) => t.reveal() === s.reveal()) === i),
  };
}

/**
 * The password of a URL setting exactly as typed — percent-escapes, spaces
 * and all, up to the last `@` — which a driver may echo as is: the parsed
 * password differs from it once an escape is decoded (`%4D` is `M`).
 */
function typedPassword(text: string): Secret[] {
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/([\s\S]*)@/i.exec(text)?.[1];
  const colon = userinfo?.indexOf(':') ?? -1;
  if (userinfo === undefined || colon < 0 || colon === userinfo.length - 1) return [];
  return [new Secret(userinfo.slice(colon + 1))];
}

/** A password as configured and as it appears percent-encoded in a URL a driver may echo. */
function secretForms(secret: Secret | string): Secret[] {
  const value = typeof secret === 'string' ? secret : secret.reveal();
  const encoded = encodeURIComponent(value);
  return [typeof secret === 'string' ? new Secret(value) : secret, ...(encoded !== value ? [new Secret(encoded)] : [])];
}

/** The connector for `OBJECTSTORAGE.<NAME>:…`; names are case-insensitive. */
export function getConnector(config: Config, name: string): Location {
  const key = name.toUpperCase();
  const loc = config.connectors[key];
  if (!loc) {
    const known = Object.keys(config.connectors).sort();
    const suggestion = nearest(key, known);
    throw new MlmodelError(
      'CONNECTOR_UNKNOWN',
      `unknown connector "${name}"; ${suggestion ? `did you mean ${suggestion}? ` : ''}${known.length ? `configured: ${known.join(', ')}` : 'none is configured (set MLMODEL_CONNECTOR_<NAME> or connectors: in the config file)'}`,
      { connector: name, known, ...(suggestion ? { suggestion } : {}) },
    );
  }
  return loc;
}

/** A plain object for printing the configuration: no secret in it. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    home: config.home,
    config_file: config.configFile,
    user: config.user,
    metadata: config.metadata.kind === 'mongodb' ? `mongodb ${config.metadata.display}` : `sqlite ${config.metadata.path}`,
    objects:
      config.objects.kind === 'minio'
        ? `minio ${describeLocation(config.objects.location)}`
        : `directory ${config.objects.path}`,
    serving_base: describeLocation(config.servingBase),
    connectors: Object.fromEntries(
      Object.entries(config.connectors)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, describeLocation(v)]),
    ),
  };
}

/** Parses a MongoDB connection string far enough to know its database and password. */
export function parseMongoUrl(text: string, what: string): { database: string; password: string | null } {
  // Not WHATWG-URL-parseable when it lists several hosts (a replica set), so by hand.
  const m = /^mongodb(?:\+srv)?:\/\/(?:([^@/]*)@)?([^/?#@]+)(?:\/([^?#]*))?(?:\?[^#]*)?$/.exec(text);
  if (!m) {
    throw new MlmodelError('CONFIG_INVALID', `${what}: expected mongodb://host[:port][,host…]/database, with USER:PASSWORD@ before the hosts if needed (percent-encode : / ? # @ % and spaces in them), got ${redactUrl(text)}`, {
      setting: what,
    });
  }
  if (text.slice(text.indexOf('://') + 3 + (m[1] === undefined ? 0 : m[1].length + 1)).includes('@')) {
    // `user:pa/ss@host`: a `/`, `?` or `#` ended the user-info early, and what looks like hosts,
    // a database or options is the rest of the password.
    throw new MlmodelError('CONFIG_INVALID', `${what}: an unencoded / ? # or @ in the user or password (percent-encode them), in ${redactUrl(text)}`, {
      setting: what,
    });
  }
  const userinfo = m[1];
  const colon = userinfo ? userinfo.indexOf(':') : -1;
  // The driver refuses these unencoded in the user or password, with a message of its own.
  if (userinfo && /[:?#[\]\s]/.test(colon >= 0 ? userinfo.slice(0, colon) + userinfo.slice(colon + 1) : userinfo)) {
    throw new MlmodelError(
      'CONFIG_INVALID',
      `${what}: the user or password holds an unencoded : / ? # @ [ ] or space (percent-encode them), in ${redactUrl(text)}`,
      { setting: what },
    );
  }
  let password: string | null = null;
  if (userinfo && colon >= 0) {
    try {
      password = decodeURIComponent(userinfo.slice(colon + 1));
    } catch {
      password = userinfo.slice(colon + 1);
    }
  }
  let database = m[3] ? safeDecode(m[3]) : '';
  if (database === '') database = 'mlmodel';
  if (!/^[^/\\. "$*<>:|?\p{Cc}]{1,63}$/u.test(database)) {
    throw new MlmodelError('CONFIG_INVALID', `${what}: "${database}" is not a valid MongoDB database name`, { setting: what });
  }
  return { database, password };
}

function readConfigFile(path: string): FileSettings {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = typeof code === 'string' && code.startsWith('E') ? (e as Error).message : yamlProblem(e);
    throw new MlmodelError('CONFIG_INVALID', `config file ${path}: ${reason}`, { path });
  }
  if (doc === null || doc === undefined) return {};
  if (!isPlainObject(doc)) {
    throw new MlmodelError('CONFIG_INVALID', `config file ${path}: expected a mapping of settings`, { path });
  }
  const out: FileSettings = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!(FILE_KEYS as readonly string[]).includes(key)) {
      throw new MlmodelError(
        'CONFIG_INVALID',
        `config file ${path}: unknown setting ${shownKey(key)}${didYouMean(key, FILE_KEYS)}; valid settings: ${FILE_KEYS.join(', ')}`,
        { path },
      );
    }
    if (key === 'http') {
      if (value === null) continue;
      if (!isPlainObject(value)) throw new MlmodelError('CONFIG_INVALID', `config file ${path}: http must be a mapping`, { path });
      out.http = value;
      continue;
    }
    if (key === 'tracking') {
      if (value === null) continue;
      if (!isPlainObject(value)) throw new MlmodelError('CONFIG_INVALID', `config file ${path}: tracking must be a mapping`, { path });
      out.tracking = value;
      continue;
    }
    if (key === 'registries') {
      if (value === null) continue;
      if (!isPlainObject(value)) throw new MlmodelError('CONFIG_INVALID', `config file ${path}: registries must be a mapping NAME: {home | mongodb_url, minio_url}`, { path });
      out.registries = value;
      continue;
    }
    if (key === 'connectors') {
      if (value === null) continue;
      if (!isPlainObject(value)) {
        throw new MlmodelError('CONFIG_INVALID', `config file ${path}: connectors must be a mapping NAME: URL`, { path });
      }
      out.connectors = value;
      continue;
    }
    if (value === null) continue;
    if (typeof value !== 'string') {
      throw new MlmodelError('CONFIG_INVALID', `config file ${path}: ${key} must be a string`, { path, key });
    }
    out[key as Exclude<(typeof FILE_KEYS)[number], 'connectors' | 'registries' | 'http' | 'tracking'>] = value;
  }
  return out;
}

const USER_NAME = { test: isUserName };

/**
 * The `http:` section: tokens (at least 16 characters) → users, admins, absolute local roots, a timeout,
 * and the Host/Origin allow-lists, which MLMODEL_HTTP_ALLOWED_HOSTS / _ORIGINS (comma-separated) replace.
 */
function parseTrackingSection(section: Record<string, unknown>, where: string): TrackingConfig {
  for (const key of Object.keys(section)) {
    if (!(TRACKING_KEYS as readonly string[]).includes(key)) {
      throw new MlmodelError('CONFIG_INVALID', `${where}: tracking: unknown key ${shownKey(key)}${didYouMean(key, TRACKING_KEYS)}; valid: ${TRACKING_KEYS.join(', ')}`);
    }
  }
  let staleAfter = DEFAULT_STALE_AFTER_SECONDS;
  if (section.stale_after !== undefined && section.stale_after !== null) {
    // The same reading as `mlmodel runs stale=`: seconds, or 90s, 15m, 1h, 2d.
    const read = readOptionValue('stale_after', { type: 'duration' }, String(section.stale_after), () => {
      throw new Error('no model reference in a duration');
    });
    if ('problem' in read) throw new MlmodelError('CONFIG_INVALID', `${where}: tracking.${read.problem}`);
    staleAfter = read.value as number;
  }
  return { staleAfter };
}

function parseHttpSection(section: Record<string, unknown>, where: string, env: Env): HttpConfig {
  const bad = (msg: string) => new MlmodelError('CONFIG_INVALID', `${where}: http.${msg}`);
  for (const key of Object.keys(section)) {
    if (!(HTTP_KEYS as readonly string[]).includes(key)) {
      throw new MlmodelError('CONFIG_INVALID', `${where}: http: unknown key ${shownKey(key)}${didYouMean(key, HTTP_KEYS)}; valid: ${HTTP_KEYS.join(', ')}`);
    }
  }
  const tokens = new Map<Secret, string>();
  const { tokens: rawTokens, admins: rawAdmins, local_roots: rawRoots, query_timeout: rawTimeout } = section;
  if (rawTokens !== undefined && rawTokens !== null) {
    if (!isPlainObject(rawTokens)) throw bad('tokens must be a mapping TOKEN: USER');
    for (const [token, user] of Object.entries(rawTokens)) {
      // The token itself never goes into a message.
      if (typeof user !== 'string' || !USER_NAME.test(user)) throw bad(`tokens: every token must map to a user name (${USER_NAME_RULE})`);
      if (token.length < 16 || /\s/.test(token)) throw bad(`tokens: the token for ${user} must be at least 16 characters without spaces`);
      tokens.set(new Secret(token), user);
    }
  }
  const list = (v: unknown, what: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(`${what} must be a list of strings`);
    return v as string[];
  };
  const admins = list(rawAdmins, 'admins');
  for (const a of admins) if (!USER_NAME.test(a)) throw bad(`admins: "${a}" is not a user name`);
  const readers = list(section.readers, 'readers');
  for (const r of readers) {
    if (!USER_NAME.test(r)) throw bad(`readers: "${r}" is not a user name`);
    if (admins.includes(r)) throw bad(`readers: "${r}" is also an admin; a user is one or the other`);
  }
  const localRoots = list(rawRoots, 'local_roots').map((r) => {
    if (!isAbsolute(r)) throw bad(`local_roots: "${r}" must be an absolute path`);
    return resolve(r);
  });
  let queryTimeout: number | null = null;
  if (rawTimeout !== undefined && rawTimeout !== null) {
    if (typeof rawTimeout !== 'number' || !(rawTimeout > 0) || rawTimeout > 86_400) throw bad('query_timeout must be a number of seconds from 0 to 86400');
    queryTimeout = rawTimeout;
  }
  const fromEnv = (name: string, fileValue: unknown, what: string, check: (v: string) => string): string[] => {
    const raw = env[name];
    const values = raw !== undefined && raw !== '' ? raw.split(',').map((v) => v.trim()).filter((v) => v !== '') : list(fileValue, what);
    return values.map((v) => {
      const normal = v === '*' ? v : check(v);
      if (normal === '') throw new MlmodelError('CONFIG_INVALID', `${raw !== undefined && raw !== '' ? name : `${where}: http.${what}`}: "${v}" is not ${what === 'allowed_hosts' ? 'a host name or name:port' : 'an origin scheme://host[:port]'}`);
      return normal;
    });
  };
  const allowedHosts = fromEnv('MLMODEL_HTTP_ALLOWED_HOSTS', section.allowed_hosts, 'allowed_hosts', normalizeHost);
  const allowedOrigins = fromEnv('MLMODEL_HTTP_ALLOWED_ORIGINS', section.allowed_origins, 'allowed_origins', normalizeOrigin);
  return { tokens, admins, readers, localRoots, queryTimeout, allowedHosts, allowedOrigins };
}

/**
 * A Host header value (`name`, `name:port`, `[v6]:port`) in one canonical form — lower case,
 * IP literals as the WHATWG URL parser writes them, port 80 dropped — or '' when it is not one.
 */
export function normalizeHost(host: string): string {
  if (!/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::\d{1,5})?$/.test(host)) return '';
  try {
    return new URL(`http://${host}/`).host;
  } catch {
    return '';
  }
}

/** An Origin value (`http(s)://host[:port]`) in canonical form, or '' when it is not one. */
export function normalizeOrigin(origin: string): string {
  const m = /^(https?):\/\/([^/?#@\\]+)$/i.exec(origin);
  if (!m || normalizeHost(m[2]!) === '') return '';
  // Parsed with its own scheme, so that each scheme's default port is the one dropped.
  return new URL(`${m[1]!.toLowerCase()}://${m[2]}`).origin;
}

function parseFileConnector(value: unknown, what: string): Location {
  if (typeof value === 'string') return parseLocation(value, what);
  if (!isPlainObject(value)) {
    throw new MlmodelError('CONFIG_INVALID', `${what}: expected a URL or a mapping with endpoint, bucket, access_key, secret_key`);
  }
  for (const key of Object.keys(value)) {
    if (!(CONNECTOR_KEYS as readonly string[]).includes(key)) {
      throw new MlmodelError('CONFIG_INVALID', `${what}: unknown key ${shownKey(key)}; valid keys: ${CONNECTOR_KEYS.join(', ')}`);
    }
    if (typeof value[key] !== 'string') {
      throw new MlmodelError('CONFIG_INVALID', `${what}.${key} must be a string`);
    }
  }
  const v = value as Record<string, string>;
  if (v.url !== undefined) {
    if (Object.keys(v).length > 1) throw new MlmodelError('CONFIG_INVALID', `${what}: give either url or its parts, not both`);
    return parseLocation(v.url, what);
  }
  if (v.path !== undefined) {
    if (Object.keys(v).length > 1) throw new MlmodelError('CONFIG_INVALID', `${what}: path stands alone`);
    return parseFileLocation(v.path, what);
  }
  if (!v.endpoint || !v.bucket) {
    throw new MlmodelError('CONFIG_INVALID', `${what}: endpoint and bucket are required`);
  }
  const endpoint = v.endpoint.replace(/\/+$/, '');
  if (/@/.test(endpoint) || !/^https?:\/\/[^/]+$/i.test(endpoint)) {
    throw new MlmodelError('CONFIG_INVALID', `${what}.endpoint: expected http(s)://host[:port] without credentials or path`);
  }
  const prefix = (v.prefix ?? '').replace(/^\/+|\/+$/g, '');
  const loc = parseS3Url(`${endpoint}/${encodeURIComponent(v.bucket)}${prefix ? `/${prefix}` : ''}`, what);
  loc.accessKey = v.access_key ?? '';
  loc.secretKey = new Secret(v.secret_key ?? '');
  if (v.region) loc.region = v.region;
  return loc;
}

/**
 * One remote registry: `home` alone (an embedded registry), or `mongodb_url`
 * and `minio_url` together (a server pair), with `serving_base` (required for
 * a server pair without a home). Its passwords join `secrets`.
 */
function parseRemoteRegistry(value: unknown, what: string, secrets: Secret[]): RemoteRegistryConfig {
  if (!isPlainObject(value)) throw new MlmodelError('CONFIG_INVALID', `${what}: expected a mapping with home, or mongodb_url and minio_url`);
  for (const key of Object.keys(value)) {
    if (!(REGISTRY_KEYS as readonly string[]).includes(key)) throw new MlmodelError('CONFIG_INVALID', `${what}: unknown key ${shownKey(key)}; valid keys: ${REGISTRY_KEYS.join(', ')}`);
    if (typeof value[key] !== 'string' || value[key] === '') throw new MlmodelError('CONFIG_INVALID', `${what}.${key} must be a non-empty string`);
  }
  const v = value as Partial<Record<(typeof REGISTRY_KEYS)[number], string>>;
  if (v.home !== undefined && !isAbsolute(v.home)) throw new MlmodelError('CONFIG_INVALID', `${what}.home must be an absolute directory`);
  const home = v.home === undefined ? undefined : resolve(v.home);
  if ((v.mongodb_url === undefined) !== (v.minio_url === undefined)) throw new MlmodelError('CONFIG_INVALID', `${what}: mongodb_url and minio_url go together (a registry's metadata and its objects)`);
  if (home === undefined && v.mongodb_url === undefined) throw new MlmodelError('CONFIG_INVALID', `${what}: give home (an embedded registry) or mongodb_url and minio_url`);
  let metadata: RemoteRegistryConfig['metadata'] = { kind: 'sqlite', path: join(home ?? '', 'mlmodel.db') };
  let objects: RemoteRegistryConfig['objects'] = { kind: 'directory', path: join(home ?? '', 'objects') };
  if (v.mongodb_url !== undefined && v.minio_url !== undefined) {
    const parsed = parseMongoUrl(v.mongodb_url, `${what}.mongodb_url`);
    metadata = { kind: 'mongodb', url: new Secret(v.mongodb_url), display: redactUrl(v.mongodb_url), database: parsed.database };
    if (parsed.password) secrets.push(...secretForms(parsed.password));
    const location = parseS3Url(v.minio_url, `${what}.minio_url`, 'mlmodel');
    objects = { kind: 'minio', location };
    secrets.push(...typedPassword(v.mongodb_url), ...secretForms(location.secretKey), ...typedPassword(v.minio_url));
  }
  if (v.serving_base === undefined && home === undefined) throw new MlmodelError('CONFIG_INVALID', `${what}: serving_base is required without home (where the registry lays out what it serves)`);
  const servingBase: Location = v.serving_base !== undefined ? parseLocation(v.serving_base, `${what}.serving_base`) : { kind: 'file', path: join(home!, 'serving') };
  if (v.serving_base !== undefined && servingBase.kind === 's3') secrets.push(...secretForms(servingBase.secretKey), ...typedPassword(v.serving_base));
  const display = metadata.kind === 'mongodb' && objects.kind === 'minio' ? `mongodb ${metadata.display} + minio ${describeLocation(objects.location)}` : `embedded ${home!}`;
  return { metadata, objects, servingBase, display };
}

function normalizeRegistryName(raw: string, what: string): string {
  const name = raw.toLowerCase();
  if (!REGISTRY_NAME.test(name)) throw new MlmodelError('CONFIG_INVALID', `${what}: the registry name ${shownKey(raw)} must be letters, digits, '_' or '-'`);
  return name;
}

function normalizeConnectorName(raw: string, what: string): string {
  const name = raw.toUpperCase();
  if (!CONNECTOR_NAME.test(name)) {
    throw new MlmodelError('CONFIG_INVALID', `${what}: the connector name ${shownKey(raw)} must be letters, digits, '_' or '-'`);
  }
  return name;
}

function settingName(which: 'mongodb' | 'minio' | 'serving', origin: Origin): string {
  const names = {
    mongodb: { option: '--mongodb-url', env: 'MLMODEL_MONGODB_URL', file: 'mongodb_url', default: 'mongodb_url' },
    minio: { option: '--minio-url', env: 'MLMODEL_MINIO_URL', file: 'minio_url', default: 'minio_url' },
    serving: { option: '--serving-base', env: 'MLMODEL_SERVING_BASE', file: 'serving_base', default: 'serving_base' },
  } as const;
  return names[which][origin];
}

function expandTilde(p: string, userHome: string): string {
  return p === '~' ? userHome : p.startsWith('~/') ? join(userHome, p.slice(2)) : p;
}

function safeUserName(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `; did you mean local_roots?` for a near miss of a setting's name, or nothing. */
function didYouMean(key: string, valid: readonly string[]): string {
  const near = nearest(key, valid);
  return near ? `; did you mean ${near}?` : '';
}
