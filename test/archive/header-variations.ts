/**
 * fast-check arbitraries for tar archives whose headers vary along every
 * axis where tar readers are known to part ways: the format (v7, ustar, GNU),
 * bytes in the prefix field, pax and GNU long-name headers (repeated, mixed,
 * global), trailing slashes on file and directory types, how sizes are
 * written (octal ended by NUL or space, leading blanks, base-256, blanks,
 * garbage), sizes in pax records that disagree with the header, checksums
 * summed signed or wrong, other numeric fields garbled, links, sparse and
 * other types, and what follows the end-of-archive marker.
 *
 * Each archive comes with a plain description of how it was built, so a
 * failure can be read and rebuilt without the generator.
 */
import fc from 'fast-check';
import { header, paxRecord, type HeaderSpec, type NumericField } from './tar-writer.js';

type Format = 'v7' | 'posix' | 'gnu';

export type Meta =
  | { kind: 'x' | 'g'; records: Array<[string, string]> }
  | { kind: 'L' | 'K'; name: string };

export interface EntryVariation {
  metas: Meta[];
  format: Format;
  name: string;
  prefix: string;
  type: string;
  /** Bytes of data actually following the header (before padding). */
  body: number;
  /** What the header's size field says, and how it is written. */
  size: number;
  sizeAs: 'octal' | 'octal-space' | 'blanks-first' | 'base256' | 'no-terminator' | 'blank' | 'garbage' | 'base256-0x81';
  checksum: 'unsigned' | 'signed' | 'bad';
  garbled?: { field: NumericField; value: string };
  linkname: string;
  /** The data is itself a valid header of a hidden file (entry smuggling). */
  smuggle: boolean;
}

export type Ending = 'marker' | 'marker+record' | 'one-zero-block' | 'none' | 'lone-zero-then-entry' | 'entry-after-marker';

export interface ArchiveVariation {
  entries: EntryVariation[];
  ending: Ending;
}

/** Name pieces; the odd ones ('.', '..', '' for a repeated slash, a leading '/') are rarer, so that many archives stay acceptable. */
const segmentArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('saved_model.pb', 'saved_model.pb', 'variables', 'a', 'b', 'é') },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(60), 'y'.repeat(99)) },
  { weight: 3, arbitrary: fc.constantFrom('.', '..', '') },
);

/** Names built from few segments, so that different readers' names often collide. */
const nameArb = (maxSegments: number): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.oneof({ weight: 12, arbitrary: fc.constant('') }, { weight: 2, arbitrary: fc.constant('./') }, { weight: 1, arbitrary: fc.constant('/') }),
      fc.array(segmentArb, { minLength: 1, maxLength: maxSegments }),
      fc.oneof({ weight: 10, arbitrary: fc.constant('') }, { weight: 2, arbitrary: fc.constant('/') }, { weight: 1, arbitrary: fc.constant('//') }),
    )
    .map(([lead, segs, trail]) => `${lead}${segs.join('/')}${trail}`);

const sizeArb = fc.constantFrom(0, 0, 1, 5, 511, 512, 700);

/** `arb` one time in `1 + plain`, else undefined: most headers keep most fields ordinary, so that enough archives are accepted to compare. */
function rarely<T>(arb: fc.Arbitrary<T>, plain: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: plain, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

const recordArb: fc.Arbitrary<[string, string]> = fc.oneof(
  { weight: 4, arbitrary: nameArb(4).map((n): [string, string] => ['path', n]) },
  { weight: 2, arbitrary: sizeArb.map((n): [string, string] => ['size', String(n)]) },
  { weight: 1, arbitrary: fc.constantFrom<[string, string]>(['linkpath', 'saved_model.pb'], ['linkpath', 'a']) },
  { weight: 1, arbitrary: fc.constantFrom<[string, string]>(['mtime', '1700000000.5'], ['comment', 'built by a test'], ['GNU.sparse.size', '5']) },
);

const metaArb: fc.Arbitrary<Meta> = fc.oneof(
  { weight: 4, arbitrary: fc.array(recordArb, { minLength: 1, maxLength: 3 }).map((records): Meta => ({ kind: 'x', records })) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom<[string, string]>(['comment', 'git commit id'], ['mtime', '1700000000']) }, { weight: 1, arbitrary: recordArb }), {
        minLength: 1,
        maxLength: 2,
      })
      .map((records): Meta => ({ kind: 'g', records })),
  },
  { weight: 3, arbitrary: nameArb(4).map((name): Meta => ({ kind: 'L', name })) },
  { weight: 1, arbitrary: fc.constantFrom('saved_model.pb', 'a').map((name): Meta => ({ kind: 'K', name })) },
);

const entryArb: fc.Arbitrary<EntryVariation> = fc
  .record({
    metas: fc.oneof(
      { weight: 4, arbitrary: fc.constant([] as Meta[]) },
      { weight: 3, arbitrary: fc.array(metaArb, { minLength: 1, maxLength: 1 }) },
      { weight: 2, arbitrary: fc.array(metaArb, { minLength: 2, maxLength: 3 }) },
    ),
    format: fc.constantFrom<Format>('posix', 'posix', 'gnu', 'v7'),
    name: nameArb(3),
    prefix: fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('..', '../..', 'a', 'saved_model.pb', '/', 'a/') }),
    type: fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom('0', '0', '\0', '5') },
      { weight: 2, arbitrary: fc.constantFrom('7') },
      { weight: 1, arbitrary: fc.constantFrom('1', '2', 'S', 'D', 'M', 'V', 'X', 'Z', '6') },
    ),
    body: sizeArb,
    sizeOverride: rarely(sizeArb, 6),
    sizeAs: fc.oneof(
      { weight: 12, arbitrary: fc.constant<EntryVariation['sizeAs']>('octal') },
      { weight: 4, arbitrary: fc.constantFrom<EntryVariation['sizeAs']>('octal-space', 'blanks-first', 'base256', 'no-terminator') },
      { weight: 1, arbitrary: fc.constantFrom<EntryVariation['sizeAs']>('blank', 'garbage', 'base256-0x81') },
    ),
    checksum: fc.oneof(
      { weight: 12, arbitrary: fc.constant<EntryVariation['checksum']>('unsigned') },
      { weight: 2, arbitrary: fc.constant<EntryVariation['checksum']>('signed') },
      { weight: 1, arbitrary: fc.constant<EntryVariation['checksum']>('bad') },
    ),
    garbled: rarely(
      fc.record({ field: fc.constantFrom<NumericField>('mode', 'uid', 'gid', 'devmajor', 'devminor'), value: fc.constantFrom('zz', '        ', '\u00000012', '-1') }),
      10,
    ),
    linkname: fc.constantFrom('', 'saved_model.pb', 'a'),
    smuggle: fc.boolean(),
  })
  .map(({ sizeOverride, ...e }) => ({ ...e, size: sizeOverride ?? e.body }));

/**
 * Headers every reader should accept, written in all the ways the formats
 * allow: v7, ustar and GNU magic, a ustar prefix, sizes in octal ended by
 * NUL or space, led by blanks, without terminator or in base-256, signed
 * checksums, pax paths and GNU long names (one each), global comments, v7
 * directories. Without them few generated archives would be accepted, and
 * the property "accepted means read alike" would rest on few cases.
 */
const tameName = fc
  .tuple(fc.constantFrom('', '', './'), fc.array(fc.constantFrom('saved_model.pb', 'variables', 'a', 'b', 'é', 'x'.repeat(60)), { minLength: 1, maxLength: 3 }))
  .map(([lead, segs]) => `${lead}${segs.join('/')}`);

const tameEntryArb: fc.Arbitrary<EntryVariation> = fc
  .record({
    metas: fc.oneof(
      { weight: 3, arbitrary: fc.constant([] as Meta[]) },
      { weight: 1, arbitrary: tameName.map((path): Meta[] => [{ kind: 'x', records: [['path', path], ['mtime', '1700000000.5']] }]) },
      { weight: 1, arbitrary: tameName.map((name): Meta[] => [{ kind: 'L', name }]) },
      { weight: 1, arbitrary: fc.constant<Meta[]>([{ kind: 'g', records: [['comment', 'git commit id']] }]) },
    ),
    format: fc.constantFrom<Format>('posix', 'gnu', 'v7'),
    name: tameName,
    prefix: fc.constantFrom('', '', 'variables', 'a/b'),
    kind: fc.constantFrom('0', '0', '7', '\0', '5', 'v7-dir'),
    body: sizeArb,
    sizeAs: fc.constantFrom<EntryVariation['sizeAs']>('octal', 'octal', 'octal-space', 'blanks-first', 'base256', 'no-terminator'),
    checksum: fc.constantFrom<EntryVariation['checksum']>('unsigned', 'unsigned', 'signed'),
  })
  .map(({ kind, prefix, body, ...e }) => {
    const dir = kind === '5' || kind === 'v7-dir';
    const named = e.metas.some((m) => m.kind !== 'g');
    return {
      ...e,
      // A prefix field exists only in ustar headers; a v7 directory only without a pax path or long name.
      prefix: e.format === 'posix' ? prefix : '',
      type: kind === 'v7-dir' ? (named ? '5' : '\0') : kind,
      name: kind === 'v7-dir' && !named ? `${e.name}/` : e.name,
      body: dir ? 0 : body,
      size: dir ? 0 : body,
      linkname: '',
      smuggle: false,
    };
  });

export const archiveArb: fc.Arbitrary<ArchiveVariation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      entries: fc.array(entryArb, { minLength: 1, maxLength: 3 }),
      ending: fc.oneof(
        { weight: 10, arbitrary: fc.constant<Ending>('marker') },
        { weight: 2, arbitrary: fc.constant<Ending>('marker+record') },
        { weight: 2, arbitrary: fc.constantFrom<Ending>('one-zero-block', 'none', 'lone-zero-then-entry', 'entry-after-marker') },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      // A hostile entry among tame ones: one way to be read differently, everything else ordinary.
      entries: fc.tuple(fc.array(tameEntryArb, { maxLength: 3 }), fc.option(entryArb, { nil: undefined, freq: 2 })).map(([t, h]) => (h === undefined ? t : [...t, h])).filter((es) => es.length > 0),
      ending: fc.constantFrom<Ending>('marker', 'marker+record'),
    }),
  },
);

function sizeField(size: number, as: EntryVariation['sizeAs']): Buffer | string | undefined {
  const octal = size.toString(8);
  switch (as) {
    case 'octal':
      return undefined;
    case 'octal-space':
      return `${octal.padStart(11, '0')} `;
    case 'blanks-first':
      return `${octal.padStart(11, ' ')}\0`;
    case 'no-terminator':
      return octal.padStart(12, '0');
    case 'base256': {
      const b = Buffer.alloc(12);
      b[0] = 0x80;
      b.writeUInt32BE(size, 8);
      return b;
    }
    case 'base256-0x81': {
      const b = Buffer.alloc(12);
      b[0] = 0x81;
      b.writeUInt32BE(size, 8);
      return b;
    }
    case 'blank':
      return '           \0';
    case 'garbage':
      return `${octal}9\0`;
  }
}

function pad(n: number): Buffer {
  return Buffer.alloc((512 - (n % 512)) % 512);
}

function metaBytes(m: Meta, format: Format): Buffer {
  if ('name' in m) {
    const body = Buffer.from(`${m.name}\0`, 'utf8');
    return Buffer.concat([header({ name: '././@LongLink', type: m.kind, size: body.length, magic: 'gnu' }), body, pad(body.length)]);
  }
  const body = Buffer.from(m.records.map(([k, v]) => paxRecord(k, v)).join(''), 'utf8');
  return Buffer.concat([header({ name: 'PaxHeader/x', type: m.kind, size: body.length, magic: format === 'v7' ? 'posix' : format }), body, pad(body.length)]);
}

function bodyBytes(e: EntryVariation): Buffer {
  const data = Buffer.alloc(e.body, 0x41);
  if (e.smuggle && e.body >= 512) header({ name: 'hidden.bin', size: 0 }).copy(data);
  return data;
}

function entryBytes(e: EntryVariation): Buffer {
  const spec: HeaderSpec = {
    name: e.name,
    type: e.type,
    size: e.size,
    linkname: e.linkname,
    magic: e.format,
    mode: e.type === '5' ? 0o755 : 0o644,
    signedChecksum: e.checksum === 'signed',
    badChecksum: e.checksum === 'bad',
  };
  if (e.prefix !== '') spec.prefix = e.prefix;
  const raw = sizeField(e.size, e.sizeAs);
  if (raw !== undefined) spec.rawSize = raw;
  if (e.garbled !== undefined) spec.rawFields = { [e.garbled.field]: e.garbled.value };
  // A name longer than the field is cut there, as a careless writer would.
  return Buffer.concat([...e.metas.map((m) => metaBytes(m, e.format)), header(spec), bodyBytes(e), pad(e.body)]);
}

const HIDDEN = Buffer.concat([header({ name: 'hidden.bin', size: 3 }), Buffer.from('abc'), pad(3)]);

export function archiveBytes(a: ArchiveVariation): Buffer {
  const parts = a.entries.map(entryBytes);
  switch (a.ending) {
    case 'marker':
      parts.push(Buffer.alloc(1024));
      break;
    case 'marker+record':
      // GNU tar pads to a 10240-byte record.
      parts.push(Buffer.alloc(1024 + 512 * (1 + parts.length)));
      break;
    case 'one-zero-block':
      parts.push(Buffer.alloc(512));
      break;
    case 'none':
      break;
    case 'lone-zero-then-entry':
      parts.push(Buffer.alloc(512), HIDDEN, Buffer.alloc(1024));
      break;
    case 'entry-after-marker':
      parts.push(Buffer.alloc(1024), HIDDEN, Buffer.alloc(1024));
      break;
  }
  return Buffer.concat(parts);
}

/** One line per header, for failure messages. */
export function describe(a: ArchiveVariation): string {
  const lines = a.entries.map((e) => {
    const metas = e.metas.map((m) => ('name' in m ? `${m.kind}(${JSON.stringify(m.name)})` : `${m.kind}{${m.records.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}}`));
    const extras = [
      e.prefix !== '' ? `prefix=${JSON.stringify(e.prefix)}` : '',
      e.size !== e.body ? `header size ${e.size}` : '',
      e.sizeAs !== 'octal' ? `size as ${e.sizeAs}` : '',
      e.checksum !== 'unsigned' ? `checksum ${e.checksum}` : '',
      e.garbled ? `${e.garbled.field}=${JSON.stringify(e.garbled.value)}` : '',
      e.linkname ? `linkname=${JSON.stringify(e.linkname)}` : '',
      e.smuggle && e.body >= 512 ? 'data is a header' : '',
    ].filter((x) => x !== '');
    return `${metas.join(' + ')}${metas.length ? ' + ' : ''}${e.format} type ${JSON.stringify(e.type)} ${JSON.stringify(e.name)} body ${e.body}${extras.length ? ` (${extras.join(', ')})` : ''}`;
  });
  return [...lines, `ending: ${a.ending}`].join('\n');
}
