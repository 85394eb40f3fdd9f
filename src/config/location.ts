import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MlmodelError } from '../errors.js';
import { redactUrl, Secret } from './redact.js';

/** An S3-compatible place: endpoint + bucket (+ key prefix) + credentials. */
export interface S3Location {
  kind: 's3';
  /** `http://host:port` or `https://host:port`, without credentials. */
  endpoint: string;
  useSSL: boolean;
  host: string;
  port: number;
  bucket: string;
  /** Key prefix inside the bucket: '' or a string ending in '/'. */
  prefix: string;
  accessKey: string;
  secretKey: Secret;
  region?: string;
}

/** A local directory. */
export interface FileLocation {
  kind: 'file';
  path: string;
}

export type Location = S3Location | FileLocation;

// S3 bucket naming rules (what MinIO enforces too).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses `http(s)://ACCESS:SECRET@host:port/bucket[/prefix][?region=R]`.
 * Credentials may be percent-encoded (a secret containing `/` or `+` must be).
 * `what` names the setting in error messages (e.g. `MLMODEL_MINIO_URL`).
 */
export function parseS3Url(text: string, what: string, defaultBucket?: string): S3Location {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new MlmodelError('CONFIG_INVALID', `${what}: not a URL: ${redactUrl(text)} (percent-encode / # ? @ : % and spaces in the access key and secret)`, { setting: what });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MlmodelError(
      'CONFIG_INVALID',
      `${what}: expected an http:// or https:// URL, got ${redactUrl(text)}`,
      { setting: what },
    );
  }
  if (url.hash) {
    throw new MlmodelError('CONFIG_INVALID', `${what}: a URL fragment (#…) is not allowed: ${redactUrl(text)}`, {
      setting: what,
    });
  }
  if (text.includes('@') && (/@/.test(url.host + url.pathname + url.search + url.hash) || (!url.username && !url.password))) {
    // `http://key:se/cr?et@host`: a `/`, `?` or `#` in the secret ended the user-info early, and
    // the rest of the secret would be read as the host, the bucket or a parameter.
    throw new MlmodelError('CONFIG_INVALID', `${what}: an unencoded / ? # or @ in the access key or secret (percent-encode them), in ${redactUrl(text)}`, {
      setting: what,
    });
  }
  const useSSL = url.protocol === 'https:';
  const port = url.port ? Number(url.port) : useSSL ? 443 : 80;
  const segments = url.pathname.split('/').filter((s) => s.length > 0).map(decodeComponent);
  const bucket = segments.shift() ?? defaultBucket;
  if (bucket === undefined) {
    throw new MlmodelError('CONFIG_INVALID', `${what}: the URL must name a bucket (…/BUCKET): ${redactUrl(text)}`, {
      setting: what,
    });
  }
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new MlmodelError(
      'CONFIG_INVALID',
      `${what}: "${bucket}" is not a valid bucket name (3–63 lower-case letters, digits, '.', '-')`,
      { setting: what },
    );
  }
  for (const seg of segments) {
    if (seg === '.' || seg === '..') {
      throw new MlmodelError('CONFIG_INVALID', `${what}: '.' and '..' are not allowed in the prefix`, {
        setting: what,
      });
    }
  }
  const prefix = segments.length > 0 ? `${segments.join('/')}/` : '';
  let region: string | undefined;
  for (const [k, v] of url.searchParams) {
    if (k === 'region' && v) region = v;
    else {
      const shown = /^[A-Za-z][A-Za-z0-9_.-]{0,30}$/.test(k) ? `"${k}"` : '(not shown: it may be part of a secret)';
      throw new MlmodelError('CONFIG_INVALID', `${what}: unknown URL parameter ${shown} (only "region" is read)`, {
        setting: what,
      });
    }
  }
  const loc: S3Location = {
    kind: 's3',
    endpoint: `${url.protocol}//${url.host}`,
    useSSL,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    bucket,
    prefix,
    accessKey: decodeComponent(url.username),
    secretKey: new Secret(decodeComponent(url.password)),
  };
  if (region !== undefined) loc.region = region;
  return loc;
}

/** Parses `file:///abs/path` or a plain absolute path (relative paths are refused: they would depend on the working directory). */
export function parseFileLocation(text: string, what: string): FileLocation {
  if (text.startsWith('file:')) {
    try {
      return { kind: 'file', path: fileURLToPath(text) };
    } catch (e) {
      throw new MlmodelError('CONFIG_INVALID', `${what}: not a usable file: URL: ${redactUrl(text)}`, {
        setting: what,
        reason: e instanceof Error ? e.message : String(e),
      });
    }
  }
  if (isAbsolute(text)) return { kind: 'file', path: resolve(text) };
  throw new MlmodelError('CONFIG_INVALID', `${what}: expected file:///… or an absolute path, got ${redactUrl(text)}`, {
    setting: what,
  });
}

/** Parses either form: an S3 URL or a local directory. */
export function parseLocation(text: string, what: string): Location {
  return /^https?:\/\//i.test(text) ? parseS3Url(text, what) : parseFileLocation(text, what);
}

/** A printable form with no secret: `http://ACCESS@host:9000/bucket/prefix/` or the path. */
export function describeLocation(loc: Location): string {
  if (loc.kind === 'file') return loc.path;
  const user = loc.accessKey ? `${encodeURIComponent(loc.accessKey)}@` : '';
  const scheme = loc.useSSL ? 'https://' : 'http://';
  const hostPort = loc.endpoint.slice(scheme.length);
  return `${scheme}${user}${hostPort}/${loc.bucket}/${loc.prefix}`;
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new MlmodelError('CONFIG_INVALID', 'bad percent-encoding in a URL');
  }
}
