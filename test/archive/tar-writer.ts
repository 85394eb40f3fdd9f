/**
 * A tiny raw tar writer for tests: builds exactly the bytes a hostile
 * archive would hold (negative sizes, bad checksums, links, devices …),
 * which real tar writers refuse to produce.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export interface HeaderSpec {
  name: string;
  size?: number;
  /** Type flag character; '0' file, '5' dir, '1' hardlink, '2' symlink, 'x' pax … */
  type?: string;
  linkname?: string;
  mode?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  prefix?: string;
  magic?: 'posix' | 'gnu' | 'v7';
  /** Raw 12 bytes for the size field (e.g. a negative base-256 number). */
  rawSize?: Buffer | string;
  /** Raw bytes for the 100-byte name field (e.g. invalid UTF-8). */
  rawName?: Buffer;
  badChecksum?: boolean;
  /** Sum bytes as signed chars, as historic writers did (differs from the usual sum only when a byte is over 127). */
  signedChecksum?: boolean;
  /** Raw bytes for other numeric fields (e.g. a mode of blanks), written over the usual values. */
  rawFields?: Partial<Record<NumericField, Buffer | string>>;
}

export type NumericField = 'mode' | 'uid' | 'gid' | 'mtime' | 'devmajor' | 'devminor';

const FIELD_AT: Record<NumericField, [number, number]> = {
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  mtime: [136, 12],
  devmajor: [329, 8],
  devminor: [337, 8],
};

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

export function header(spec: HeaderSpec): Buffer {
  const b = Buffer.alloc(512);
  if (spec.rawName !== undefined) spec.rawName.copy(b, 0, 0, 100);
  else b.write(spec.name, 0, 100, 'utf8');
  b.write(octal(spec.mode ?? 0o644, 8), 100, 'ascii');
  b.write(octal(0, 8), 108, 'ascii');
  b.write(octal(0, 8), 116, 'ascii');
  if (spec.rawSize !== undefined) {
    const raw = typeof spec.rawSize === 'string' ? Buffer.from(spec.rawSize, 'latin1') : spec.rawSize;
    raw.copy(b, 124, 0, 12);
  } else b.write(octal(spec.size ?? 0, 12), 124, 'ascii');
  b.write(octal(spec.mtime ?? 1_700_000_000, 12), 136, 'ascii');
  b.write(spec.type ?? '0', 156, 'latin1');
  if (spec.linkname !== undefined) b.write(spec.linkname, 157, 100, 'utf8');
  const magic = spec.magic ?? 'posix';
  if (magic === 'posix') b.write('ustar\u000000', 257, 'latin1');
  else if (magic === 'gnu') b.write('ustar  \u0000', 257, 'latin1');
  if (spec.prefix !== undefined) b.write(spec.prefix, 345, 155, 'utf8');
  for (const [field, raw] of Object.entries(spec.rawFields ?? {}) as Array<[NumericField, Buffer | string]>) {
    const [at, width] = FIELD_AT[field];
    b.fill(0, at, at + width);
    (typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw).copy(b, at, 0, width);
  }
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += spec.signedChecksum && byte > 127 ? byte - 256 : byte;
  if (spec.badChecksum) sum += 1;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return b;
}

function pad(n: number): Buffer {
  return Buffer.alloc((512 - (n % 512)) % 512);
}

export function file(name: string, data: Buffer | string, spec: Partial<HeaderSpec> = {}): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([header({ name, size: body.length, ...spec }), body, pad(body.length)]);
}

export function dir(name: string, spec: Partial<HeaderSpec> = {}): Buffer {
  return header({ name, type: '5', size: 0, mode: 0o755, ...spec });
}

/** One pax record, with its self-describing length. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len++;
  return `${len}${body}`;
}

export function pax(records: Record<string, string> | string, global = false): Buffer {
  const text = typeof records === 'string' ? records : Object.entries(records).map(([k, v]) => paxRecord(k, v)).join('');
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([header({ name: 'PaxHeader', type: global ? 'g' : 'x', size: body.length }), body, pad(body.length)]);
}

export function gnuLong(name: string, kind: 'L' | 'K' = 'L'): Buffer {
  const body = Buffer.from(name + '\0', 'utf8');
  return Buffer.concat([header({ name: '././@LongLink', type: kind, size: body.length, magic: 'gnu' }), body, pad(body.length)]);
}

export const END = Buffer.alloc(1024);

/** Entries followed by the end-of-archive marker. */
export function tar(...parts: Buffer[]): Buffer {
  return Buffer.concat([...parts, END]);
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Streams `buf` in `chunk`-byte pieces so parsers meet every boundary case. */
export function chunked(buf: Buffer, chunk = 4096): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
    })(),
    { objectMode: false },
  );
}

export async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
