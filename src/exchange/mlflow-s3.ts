/**
 * MLflow's S3 artifact store, read through a connector (config connectors:)
 * on the bucket MLflow writes to: an artifact URI s3://BUCKET/KEY/… is the
 * connector's objects below KEY/, when BUCKET is the connector's bucket and
 * KEY begins with its prefix. Keys become archive paths only when every
 * segment is a plain name.
 */
import { MlmodelError } from '../errors.js';
import type { ObjectStore } from '../store/objects.js';
import type { ArtifactFile } from './mlflow-source.js';

export interface S3Artifacts {
  files(uri: string): Promise<ArtifactFile[]>;
}

const MAX_FILES = 10_000;
// eslint-disable-next-line no-control-regex -- NUL is what it keeps out
const PLAIN = /^(?!\.\.?$)[^\\\u0000]{1,255}$/;

/** The connector `name` as MLflow's S3 store: INVALID_ARGUMENT unless it is an S3 (MinIO) connector. */
export function s3Artifacts(name: string, store: ObjectStore): S3Artifacts {
  if (store.kind !== 'minio') throw new MlmodelError('INVALID_ARGUMENT', `s3=${name} names a ${store.kind} connector; MLflow's S3 artifacts are read through an S3 (MinIO) connector on their bucket`, { connector: name });
  // The printable location is http(s)://[user@]host:port/BUCKET/PREFIX (never a secret).
  const [bucket = '', ...rest] = new URL(store.location).pathname.split('/').filter((s) => s.length > 0).map(decodeURIComponent);
  const prefix = rest.length > 0 ? `${rest.join('/')}/` : '';
  return {
    async files(uri) {
      const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
      if (!m) throw new MlmodelError('INVALID_ARGUMENT', `${uri} is not an s3:// URI`);
      const [, uriBucket, key] = m as unknown as [string, string, string];
      const dir = `${key.replace(/\/+$/, '')}/`;
      if (uriBucket !== bucket || !dir.startsWith(prefix)) {
        throw new MlmodelError('INVALID_ARGUMENT', `it is in bucket ${uriBucket}${prefix ? ` outside ${prefix}` : ''}, and connector ${name} is on ${bucket}/${prefix}`, { connector: name });
      }
      const below = dir.slice(prefix.length);
      const files: ArtifactFile[] = [];
      for await (const o of store.list(below)) {
        const path = o.key.slice(below.length);
        if (!path.split('/').every((s) => PLAIN.test(s))) throw new MlmodelError('ARCHIVE_INVALID', `object ${o.key} is not a plain path below ${uri}`);
        if (files.length >= MAX_FILES) throw new MlmodelError('ARCHIVE_INVALID', `more than ${MAX_FILES} objects below ${uri}`);
        files.push({ path, size: o.size, open: () => store.get(o.key) });
      }
      if (files.length === 0) throw new MlmodelError('OBJECT_NOT_FOUND', `no object below it in connector ${name}`);
      // Directory by directory, names sorted: the order a file store's or the proxy's walk gives, so the archive is the same bytes.
      return files.sort((a, b) => bySegments(a.path, b.path));
    },
  };
}

function bySegments(a: string, b: string): number {
  const [x, y] = [a.split('/'), b.split('/')];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    // A file and a directory of the same level compare by name, as readdir's sorted names do.
    return x[i]! < y[i]! ? -1 : 1;
  }
  return x.length - y.length;
}
