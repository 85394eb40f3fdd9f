/**
 * Strict decoding of one 512-byte tar header block and of pax / GNU
 * long-name bodies.
 *
 * Strict on purpose: where two tar readers could read the same bytes
 * differently (a negative or garbled size field, a malformed pax record, a
 * name that is not UTF-8), we refuse instead of guessing, because the
 * archive we accept is later unpacked by other tools (TF Serving, `tar`,
 * MinIO consumers) that must see exactly the files we checked.
 */
import { refuse } from './refuse.js';

export const BLOCK = 512;

export interface RawHeader {
  /** ustar prefix + '/' + name when a prefix is present. */
  name: string;
  /** The 100-byte name field alone: Python's tarfile decides "v7 directory" from it. */
  nameField: string;
  /** '' for the historic NUL type flag. */
  typeflag: string;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname: string;
}

/** Headers that describe the next entry rather than being one. */
const META_TYPES: ReadonlySet<string> = new Set(['x', 'g', 'L', 'K']);

/**
 * Numeric fields no caller uses but Python's tarfile parses in every
 * header: one it cannot parse ends its listing there, silently, while GNU
 * tar and this reader go on to the entries after it.
 */
const CHECKED_FIELDS: ReadonlyArray<[string, number, number]> = [
  ['mode', 100, 108],
  ['uid', 108, 116],
  ['gid', 116, 124],
  ['devmajor', 329, 337],
  ['devminor', 337, 345],
];

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a NUL-terminated field; names that are not UTF-8 are refused (they could not round-trip and may collide). */
export function decodeText(buf: Buffer, what: string): string {
  const nul = buf.indexOf(0);
  const bytes = nul === -1 ? buf : buf.subarray(0, nul);
  try {
    return utf8.decode(bytes);
  } catch {
    throw refuse('invalid-utf8', `${what} is not valid UTF-8`, bytes.toString('utf8'));
  }
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/**
 * Returns undefined when the field is not a number at all; callers decide how
 * to word that. Stricter than every reader we must agree with: GNU tar and
 * Python's tarfile take base-256 only after 0x80 (positive) or 0xff
 * (negative), GNU tar errors on a field of blanks (Python reads it as 0), and
 * Python ignores whatever follows a NUL while GNU tar looks at it.
 */
function decodeNumber(field: Buffer): number | undefined {
  const first = field[0] ?? 0;
  if (first === 0xff) return -1;
  if (first === 0x80) {
    let v = 0n;
    for (let i = 1; i < field.length; i++) v = (v << 8n) | BigInt(field[i] ?? 0);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
  }
  if (first & 0x80) return undefined;
  let i = 0;
  while (i < field.length && field[i] === 0x20) i++;
  let v = 0;
  let digits = 0;
  for (; i < field.length; i++) {
    const c = field[i] ?? 0;
    if (c >= 0x30 && c <= 0x37) {
      v = v * 8 + (c - 0x30);
      digits++;
    } else break;
  }
  // Only NUL or space may end the digits; anything else ('-', '9', junk) is not a number.
  for (; i < field.length; i++) {
    const c = field[i];
    if (c !== 0 && c !== 0x20) return undefined;
  }
  if (digits === 0) {
    // No digits is 0 to Python's tarfile; GNU tar (which skips one leading
    // NUL) says so too unless all that is left is spaces, an error to it.
    const rest = field[0] === 0 ? field.subarray(1) : field;
    return rest.length > 0 && rest.every((b) => b === 0x20) ? undefined : 0;
  }
  return v;
}

function checksumMatches(block: Buffer): boolean {
  const stored = decodeNumber(block.subarray(148, 156));
  if (stored === undefined || stored < 0) return false;
  // Historic writers summed signed chars; accept either sum, like GNU tar.
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const b = block[i] ?? 0;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

type Magic = 'posix' | 'gnu' | 'v7' | 'unknown';

function magicOf(block: Buffer): Magic {
  const m = block.subarray(257, 265).toString('latin1');
  if (m === 'ustar\u000000') return 'posix';
  if (m === 'ustar  \u0000') return 'gnu';
  if (block.subarray(257, 265).every((b) => b === 0)) return 'v7';
  return 'unknown';
}

/**
 * Decodes a non-zero header block; `null` when it is not a tar header at
 * all (bad checksum or magic), so the caller can say "not a tar archive"
 * at offset 0 and "corrupt header" later.
 */
export function decodeHeader(block: Buffer): RawHeader | null {
  const magic = magicOf(block);
  if (magic === 'unknown' || !checksumMatches(block)) return null;
  const nameField = decodeText(block.subarray(0, 100), 'entry name');
  let name = nameField;
  const typeByte = block[156] ?? 0;
  const typeflag = typeByte === 0 ? '' : String.fromCharCode(typeByte);
  if (magic === 'posix') {
    const prefix = decodeText(block.subarray(345, 500), 'entry name prefix');
    if (prefix !== '') name = `${prefix}/${name}`;
  } else if (block[345] !== 0 && !META_TYPES.has(typeflag)) {
    // Only ustar headers have a prefix field; in GNU and v7 headers these
    // bytes are times or padding. Python's tarfile prepends them to the name
    // whatever the format ("../../saved_model.pb"), GNU tar ignores them.
    throw refuse(
      'ambiguous-header',
      `bytes in the prefix field of a ${magic === 'gnu' ? 'GNU' : 'v7'}-format header: Python's tarfile reads them as the start of the name, GNU tar does not`,
      name,
    );
  }
  for (const [field, start, end] of CHECKED_FIELDS) {
    if (decodeNumber(block.subarray(start, end)) === undefined) throw refuse('corrupt-header', `${field} field is not a number`, name);
  }
  const size = decodeNumber(block.subarray(124, 136));
  if (size === undefined) throw refuse('bad-size', 'size field is not a number', name);
  if (size < 0) throw refuse('bad-size', 'size field is negative', name);
  if (!Number.isSafeInteger(size)) throw refuse('bad-size', 'size field is out of range', name);
  const mtime = decodeNumber(block.subarray(136, 148));
  if (mtime === undefined || !Number.isFinite(mtime)) throw refuse('corrupt-header', 'mtime field is not a number', name);
  const linkname = decodeText(block.subarray(157, 257), 'link target');
  return { name, nameField, typeflag, size, mtime, linkname };
}

export interface PaxRecords {
  path?: string;
  linkpath?: string;
  size?: number;
  mtime?: number;
  /** Keys present, for refusing things like GNU sparse maps. */
  keys: string[];
}

/**
 * Parses "<len> <key>=<value>\n" records. Any malformed record is refused:
 * node-tar and others silently drop such records, and a dropped `path`
 * record means different readers see different names.
 */
export function parsePax(body: Buffer, entryHint: string): PaxRecords {
  const out: PaxRecords = { keys: [] };
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0) {
      // Some writers NUL-pad the body; padding must be all NULs.
      if (body.subarray(pos).every((b) => b === 0)) break;
      throw refuse('bad-pax', `pax header has data after NUL padding at byte ${pos}`, entryHint);
    }
    const space = body.indexOf(0x20, pos);
    const lenText = space === -1 ? '' : body.subarray(pos, space).toString('latin1');
    if (!/^[1-9][0-9]{0,9}$/.test(lenText)) throw refuse('bad-pax', `malformed pax record length at byte ${pos}`, entryHint);
    const len = Number(lenText);
    const end = pos + len;
    if (end > body.length || body[end - 1] !== 0x0a || space + 1 >= end - 1) {
      throw refuse('bad-pax', `malformed pax record at byte ${pos}`, entryHint);
    }
    const record = body.subarray(space + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw refuse('bad-pax', `pax record without key=value at byte ${pos}`, entryHint);
    let key: string;
    let value: string;
    try {
      key = utf8.decode(record.subarray(0, eq));
      value = utf8.decode(record.subarray(eq + 1));
    } catch {
      throw refuse('invalid-utf8', `pax record at byte ${pos} is not valid UTF-8`, entryHint);
    }
    out.keys.push(key);
    switch (key) {
      case 'path':
        out.path = value;
        break;
      case 'linkpath':
        out.linkpath = value;
        break;
      case 'size':
        if (!/^[0-9]{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) {
          throw refuse('bad-size', `pax size ${JSON.stringify(value)} is not a non-negative integer`, entryHint);
        }
        out.size = Number(value);
        break;
      case 'mtime':
        if (!/^-?[0-9]{1,15}(\.[0-9]{1,9})?$/.test(value)) {
          throw refuse('bad-pax', `pax mtime ${JSON.stringify(value)} is not a number`, entryHint);
        }
        out.mtime = Number(value);
        break;
      default:
        break;
    }
    pos = end;
  }
  return out;
}
