/**
 * The bundle format (docs/exchange.md): one plain tar holding
 *
 *   bundle.json            the manifest: format, format_version, every other
 *                          file with its size and sha256, and typed sections
 *   bundle.sha256          `<sha256 of bundle.json>  bundle.json`
 *   model.json             section "model": name, owner, type, aliases
 *   serving.json           section "serving": the deployments, as history
 *   versions/<n>/record.json + versions/<n>/archive
 *                          one section "version" per version: its facts and
 *                          its archive, byte for byte
 *
 * Forward compatibility: format_version changes only for a break. New kinds
 * of facts arrive as new section types (e.g. "runs", with params and
 * metrics); a reader that does not know a section type (or knows an older
 * schema of it) skips it and reports it as not carried over when the section
 * says `critical: false`, and refuses the bundle when it says `critical: true`.
 *
 * Everything read from a bundle comes from whoever made the file: each
 * parser here checks every field and refuses with ARCHIVE_INVALID.
 */
import { refuse } from '../archive/refuse.js';
import { MODEL_TYPES } from '../archive/types.js';
import type { JsonValue } from '../store/metadata.js';

export const BUNDLE_FORMAT = 'mlmodel-bundle';
export const BUNDLE_FORMAT_VERSION = 1;
export const MANIFEST_PATH = 'bundle.json';
export const MANIFEST_DIGEST_PATH = 'bundle.sha256';
export const MODEL_PATH = 'model.json';
export const SERVING_PATH = 'serving.json';
export const versionRecordPath = (v: number) => `versions/${v}/record.json`;
export const versionArchivePath = (v: number) => `versions/${v}/archive`;

/** The section types (and their schema) this reader understands. */
export const KNOWN_SECTIONS: Readonly<Record<string, number>> = { model: 1, version: 1, serving: 1 };

export interface BundleFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface BundleSection {
  readonly type: string;
  readonly schema: number;
  readonly critical: boolean;
  /** The version a "version" section holds. */
  readonly version?: number;
  readonly files: readonly string[];
}

export interface BundleManifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly format_version: number;
  readonly files: readonly BundleFile[];
  readonly sections: readonly BundleSection[];
}

export interface ModelFacts {
  readonly name: string;
  readonly user: string;
  readonly type: (typeof MODEL_TYPES)[number];
  readonly category: string | null;
  readonly algorithm: string | null;
  readonly create: string;
  readonly aliases: ReadonlyArray<{ readonly alias: string; readonly version: number }>;
}

export interface VersionFacts {
  readonly version: number;
  readonly format: string | null;
  readonly filename: string | null;
  readonly category: string | null;
  readonly algorithm: string | null;
  readonly create: string;
  readonly modified: string;
  /** When the version was stored; absent in bundles written before it was kept. */
  readonly imported?: string;
  readonly size: number;
  readonly sha256: string;
  readonly tags: readonly string[];
  readonly options: Record<string, JsonValue>;
}

export interface DeploymentFacts {
  readonly serving_name: string;
  readonly serving_version: number;
  readonly model_version: number;
  readonly label: string | null;
  readonly state: string;
  readonly deployed_at: string;
  readonly updated_at: string;
}

/** The one encoding of every JSON file of a bundle: keys in the order the objects were built, two-space indentation, a final newline. */
export function encodeJson(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
}

export function digestLine(sha256: string): Buffer {
  return Buffer.from(`${sha256}  ${MANIFEST_PATH}\n`);
}

// ---------------------------------------------------------------------------
// Reading, checking every field.

const bad = (what: string, why: string) => refuse('manifest-mismatch', `bundle ${what}: ${why}`);
const SHA256 = /^[0-9a-f]{64}$/;
/** A bundle path: short, relative, segments of safe characters, never `.` or `..`. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyKeys(v: Record<string, unknown>, what: string, allowed: readonly string[]): void {
  for (const k of Object.keys(v)) if (!allowed.includes(k)) throw bad(what, `unknown field ${JSON.stringify(k)}`);
}

function str(v: unknown, what: string, max = 1024): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw bad(what, `must be a non-empty string of at most ${max} characters`);
  return v;
}

function strOrNull(v: unknown, what: string): string | null {
  return v === null ? null : str(v, what);
}

function posInt(v: unknown, what: string): number {
  if (!Number.isSafeInteger(v) || (v as number) < 1) throw bad(what, 'must be a positive integer');
  return v as number;
}

function date(v: unknown, what: string): string {
  const s = str(v, what, 64);
  // Only what toISOString writes, so a date reads back as the same text.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(s) || new Date(s).toISOString() !== s) throw bad(what, 'must be an ISO-8601 UTC time');
  return s;
}

export function checkBundlePath(p: unknown): string {
  const s = str(p, 'file path', 100);
  const segs = s.split('/');
  if (segs.some((seg) => !SEGMENT.test(seg)) || s === MANIFEST_PATH || s === MANIFEST_DIGEST_PATH) {
    throw refuse(segs.some((seg) => seg === '..') ? 'parent-traversal' : 'manifest-mismatch', `bundle names a file it may not hold: ${JSON.stringify(s)}`);
  }
  return s;
}

export function parseManifest(bytes: Buffer): BundleManifest {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad('manifest', 'is not JSON');
  }
  if (!isObject(v)) throw bad('manifest', 'is not an object');
  onlyKeys(v, 'manifest', ['format', 'format_version', 'files', 'sections']);
  if (v.format !== BUNDLE_FORMAT) throw bad('manifest', `format is not ${BUNDLE_FORMAT}`);
  if (v.format_version !== BUNDLE_FORMAT_VERSION) {
    throw bad('manifest', `format_version ${JSON.stringify(v.format_version)} is not one this mlmodel reads (${BUNDLE_FORMAT_VERSION})`);
  }
  if (!Array.isArray(v.files) || !Array.isArray(v.sections)) throw bad('manifest', 'files and sections must be lists');
  const files: BundleFile[] = [];
  const seen = new Set<string>();
  for (const f of v.files as unknown[]) {
    if (!isObject(f)) throw bad('manifest', 'a file entry is not an object');
    onlyKeys(f, 'manifest file', ['path', 'size', 'sha256']);
    const path = checkBundlePath(f.path);
    if (seen.has(path)) throw refuse('duplicate', `bundle manifest lists ${JSON.stringify(path)} twice`);
    seen.add(path);
    if (!Number.isSafeInteger(f.size) || (f.size as number) < 0) throw bad(`file ${path}`, 'size must be a non-negative integer');
    if (typeof f.sha256 !== 'string' || !SHA256.test(f.sha256)) throw bad(`file ${path}`, 'sha256 must be 64 lower-case hex digits');
    files.push({ path, size: f.size as number, sha256: f.sha256 });
  }
  const sections: BundleSection[] = [];
  const claimed = new Set<string>();
  const versions = new Set<number>();
  for (const s of v.sections as unknown[]) {
    if (!isObject(s)) throw bad('manifest', 'a section is not an object');
    onlyKeys(s, 'section', ['type', 'schema', 'critical', 'version', 'files']);
    const type = str(s.type, 'section type', 64);
    const schema = posInt(s.schema, `section ${type} schema`);
    if (typeof s.critical !== 'boolean') throw bad(`section ${type}`, 'critical must be true or false');
    if (!Array.isArray(s.files)) throw bad(`section ${type}`, 'files must be a list');
    const sectionFiles = (s.files as unknown[]).map((p) => {
      const path = checkBundlePath(p);
      if (!seen.has(path)) throw bad(`section ${type}`, `names ${JSON.stringify(path)}, which the manifest does not list`);
      // A file belongs to one section: two sections must not each take it for theirs.
      if (claimed.has(path)) throw refuse('duplicate', `bundle sections claim ${JSON.stringify(path)} twice`);
      claimed.add(path);
      return path;
    });
    const section: BundleSection = { type, schema, critical: s.critical, files: sectionFiles };
    if (type === 'version') {
      const version = posInt(s.version, 'version section version');
      if (versions.has(version)) throw refuse('duplicate', `bundle holds version ${version} twice`);
      versions.add(version);
      sections.push({ ...section, version });
    } else {
      if (s.version !== undefined) throw bad(`section ${type}`, 'only a version section names a version');
      sections.push(section);
    }
  }
  for (const path of seen) if (!claimed.has(path)) throw bad('manifest', `lists ${JSON.stringify(path)}, which no section holds`);
  return { format: BUNDLE_FORMAT, format_version: BUNDLE_FORMAT_VERSION, files, sections };
}

function parseJsonFile(bytes: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad(what, 'is not JSON');
  }
  if (!isObject(v)) throw bad(what, 'is not an object');
  return v;
}

export function parseModelFacts(bytes: Buffer): ModelFacts {
  const v = parseJsonFile(bytes, MODEL_PATH);
  onlyKeys(v, MODEL_PATH, ['name', 'user', 'type', 'category', 'algorithm', 'create', 'aliases']);
  if (!MODEL_TYPES.includes(v.type as never)) throw bad(MODEL_PATH, `type must be one of ${MODEL_TYPES.join(', ')}`);
  if (!Array.isArray(v.aliases)) throw bad(MODEL_PATH, 'aliases must be a list');
  const names = new Set<string>();
  const aliases = (v.aliases as unknown[]).map((a) => {
    if (!isObject(a)) throw bad(MODEL_PATH, 'an alias is not an object');
    onlyKeys(a, 'alias', ['alias', 'version']);
    const alias = str(a.alias, 'alias', 128);
    if (names.has(alias)) throw refuse('duplicate', `bundle names alias ${JSON.stringify(alias)} twice`);
    names.add(alias);
    return { alias, version: posInt(a.version, `alias ${alias}`) };
  });
  return {
    name: str(v.name, 'model name', 128),
    user: str(v.user, 'model owner', 128),
    type: v.type as ModelFacts['type'],
    category: strOrNull(v.category, 'category'),
    algorithm: strOrNull(v.algorithm, 'algorithm'),
    create: date(v.create, 'model create'),
    aliases,
  };
}

export function parseVersionFacts(bytes: Buffer, what: string): VersionFacts {
  const v = parseJsonFile(bytes, what);
  onlyKeys(v, what, ['version', 'format', 'filename', 'category', 'algorithm', 'create', 'modified', 'imported', 'size', 'sha256', 'tags', 'options']);
  if (!Number.isSafeInteger(v.size) || (v.size as number) < 0) throw bad(what, 'size must be a non-negative integer');
  if (typeof v.sha256 !== 'string' || !SHA256.test(v.sha256)) throw bad(what, 'sha256 must be 64 lower-case hex digits');
  if (!Array.isArray(v.tags) || !v.tags.every((t) => typeof t === 'string')) throw bad(what, 'tags must be a list of strings');
  if (!isObject(v.options)) throw bad(what, 'options must be an object');
  return {
    version: posInt(v.version, `${what} version`),
    format: strOrNull(v.format, `${what} format`),
    filename: strOrNull(v.filename, `${what} filename`),
    category: strOrNull(v.category, `${what} category`),
    algorithm: strOrNull(v.algorithm, `${what} algorithm`),
    create: date(v.create, `${what} create`),
    modified: date(v.modified, `${what} modified`),
    ...(v.imported === undefined ? {} : { imported: date(v.imported, `${what} imported`) }),
    size: v.size as number,
    sha256: v.sha256,
    tags: v.tags as string[],
    // Checked again, as any record's options are, when the record is written (store/metadata.ts checkRecord).
    options: v.options as Record<string, JsonValue>,
  };
}

export function parseServingFacts(bytes: Buffer): DeploymentFacts[] {
  const v = parseJsonFile(bytes, SERVING_PATH);
  onlyKeys(v, SERVING_PATH, ['deployments']);
  if (!Array.isArray(v.deployments)) throw bad(SERVING_PATH, 'deployments must be a list');
  return (v.deployments as unknown[]).map((d) => {
    if (!isObject(d)) throw bad(SERVING_PATH, 'a deployment is not an object');
    onlyKeys(d, 'deployment', ['serving_name', 'serving_version', 'model_version', 'label', 'state', 'deployed_at', 'updated_at']);
    if (!['DEPLOYING', 'AVAILABLE', 'STOPPED', 'FAILED'].includes(d.state as string)) throw bad(SERVING_PATH, 'a deployment state is not valid');
    return {
      serving_name: str(d.serving_name, 'serving name', 256),
      serving_version: posInt(d.serving_version, 'serving version'),
      model_version: posInt(d.model_version, 'deployed model version'),
      label: strOrNull(d.label, 'label'),
      state: d.state as string,
      deployed_at: date(d.deployed_at, 'deployed_at'),
      updated_at: date(d.updated_at, 'updated_at'),
    };
  });
}
