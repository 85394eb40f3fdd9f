import { isAbsolute, normalize, posix, relative, resolve } from 'node:path';
import { realpath } from 'node:fs/promises';
import { MlmodelError } from '../errors.js';

/** Where `path=` points: a key behind a named connector, or a local file. */
export type PathTarget = { kind: 'connector'; connector: string; key: string } | { kind: 'file'; path: string };

const CONNECTOR_PREFIX = /^OBJECTSTORAGE\.([A-Za-z0-9][A-Za-z0-9_-]*):(.*)$/is;

function refused(text: string, why: string): MlmodelError {
  return new MlmodelError('INVALID_ARGUMENT', `path ${JSON.stringify(text)} is refused: ${why}`, { path: text });
}

/**
 * Percent-decoding applied until nothing changes, so `%252e%252e%252f`
 * is seen for the `../` it becomes after two rounds, wherever it is decoded.
 */
function decodedForms(text: string): string[] {
  const forms = [text];
  let current = text;
  for (let i = 0; i < 8; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      break;
    }
    if (next === current) break;
    forms.push(next);
    current = next;
  }
  return forms;
}

/** What no path or key may hold in any decoded form: NUL, control characters, backslashes, `..` segments. */
function checkHazards(text: string, part: string): void {
  for (const form of decodedForms(part)) {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(form)) throw refused(text, 'it contains a NUL or control character');
    if (form.includes('\\')) throw refused(text, 'backslashes are not path separators here; use /');
    if (form.split('/').some((seg) => seg === '..' || seg === '.')) throw refused(text, "'.' and '..' segments are not allowed");
    if (/^[A-Za-z]:/.test(form)) throw refused(text, 'drive letters are not paths here');
  }
}

/**
 * Reads `OBJECTSTORAGE.<CONNECTOR>:<KEY>`, `FILE:/abs/path` or `/abs/path`;
 * with `prefix`, a key may be empty or end in '/', as a listing's prefix.
 * Keys are relative to the connector's bucket and may not start with `/` or
 * hold `#`, `;` or traversal; local paths must be absolute and already
 * normal (no `//`, no `.`/`..`).
 */
export function parsePathOption(text: string, opts: { prefix?: boolean } = {}): PathTarget {
  if (text === '') throw refused(text, 'it is empty');
  const m = CONNECTOR_PREFIX.exec(text);
  if (m) {
    const [, connector = '', key = ''] = m;
    // A prefix to browse may be empty (the whole bucket) and may end in '/' (one level).
    const segments = opts.prefix && key.endsWith('/') ? key.slice(0, -1) : key;
    if (key === '' && !opts.prefix) throw refused(text, 'the key after the connector name is missing');
    if (key.startsWith('/')) throw refused(text, 'a connector key is relative to its bucket: drop the leading /');
    if (/[#;]/.test(key)) throw refused(text, "'#' and ';' are not allowed in a key");
    if (key !== '' && segments.split('/').some((seg) => seg === '')) throw refused(text, 'empty path segments (//) are not allowed in a key');
    checkHazards(text, key);
    return { kind: 'connector', connector: connector.toUpperCase(), key };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw refused(text, 'URLs are not accepted; give OBJECTSTORAGE.<CONNECTOR>:<KEY> or an absolute file path');
  }
  // OBJECTSTORAGE.<something> that is not a connector name and a key: say what is wrong with it, not that it is no absolute path.
  if (/^OBJECTSTORAGE\./i.test(text)) {
    const rest = text.slice('OBJECTSTORAGE.'.length);
    const colon = rest.indexOf(':');
    const name = colon < 0 ? rest : rest.slice(0, colon);
    if (colon < 0) throw refused(text, 'write OBJECTSTORAGE.<CONNECTOR>:<KEY>, with a : between the connector name and the key');
    throw refused(text, `${JSON.stringify(name)} is not a connector name: letters, digits, '_' and '-', as named under connectors: in the config`);
  }
  const path = /^FILE:/i.test(text) ? text.slice(5) : text;
  checkHazards(text, path);
  if (!path.startsWith('/') || !isAbsolute(path)) {
    // IRIS writes keys like USERS/root/model.tar after its connector: a relative path is most likely one.
    throw refused(text, `a local path must be absolute; for a key in object storage write OBJECTSTORAGE.<CONNECTOR>:${path}`);
  }
  if (path.startsWith('//')) throw refused(text, "a path may not start with '//'");
  if (normalize(path) !== path) throw refused(text, "it is not a normal path (no '//' inside)");
  return { kind: 'file', path };
}

/**
 * Confines a local path to the configured roots (when there are any),
 * following symlinks on the existing part so a link cannot lead outside.
 */
export async function checkLocalRoots(path: string, roots: readonly string[] | null, text: string): Promise<void> {
  if (roots === null) return;
  const real = await realExisting(path);
  for (const root of roots) {
    const r = await realExisting(resolve(root));
    const rel = relative(r, real);
    if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) return;
  }
  throw refused(text, roots.length === 0 ? 'local paths are not allowed here: no local roots are configured (http.local_roots)' : `local paths must be inside ${roots.join(' or ')}`);
}

/** The real path of the longest existing prefix of `path`, plus the rest. */
async function realExisting(path: string): Promise<string> {
  let head = path;
  const tail: string[] = [];
  for (;;) {
    try {
      return posix.join(await realpath(head), ...tail.reverse());
    } catch {
      const parent = posix.dirname(head);
      if (parent === head) return path;
      tail.push(posix.basename(head));
      head = parent;
    }
  }
}
