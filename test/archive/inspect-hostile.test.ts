import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inspect, refusal } from './run.js';
import { END, dir, file, gnuLong, header, pax, tar } from './tar-writer.js';

const MODEL = file('model.pkl', 'pickle');

interface Hostile {
  what: string;
  input: Buffer;
  reason: string;
  /** The entry the error must name (details.entry and the message). */
  entry?: string;
  message?: RegExp;
  limits?: Record<string, number>;
}

/** base-256 size field holding -1024. */
const NEGATIVE_SIZE = Buffer.from('fffffffffffffffffffffc00', 'hex');
/** base-256 size field far beyond any safe integer. */
const HUGE_SIZE = Buffer.from('80ffffffffffffffffffffff', 'hex');

const CASES: Hostile[] = [
  // where a name points
  { what: 'absolute path', input: tar(MODEL, file('/etc/passwd', 'x')), reason: 'absolute-path', entry: '/etc/passwd' },
  { what: '//// prefix', input: tar(MODEL, file('////etc/cron.d/x', 'x')), reason: 'absolute-path', entry: '////etc/cron.d/x' },
  { what: '.. traversal', input: tar(MODEL, file('../evil.sh', 'x')), reason: 'parent-traversal', entry: '../evil.sh' },
  { what: '.. after normalisation', input: tar(MODEL, file('a/./b/../../../x', 'x')), reason: 'parent-traversal', entry: 'a/./b/../../../x' },
  { what: '.. in a pax path', input: tar(MODEL, pax({ path: 'ok/../../x' }), file('harmless', 'x')), reason: 'parent-traversal', entry: 'ok/../../x' },
  { what: '.. in a GNU long name', input: tar(MODEL, gnuLong(`../${'x'.repeat(120)}`), file('harmless', 'x')), reason: 'parent-traversal', entry: `../${'x'.repeat(120)}` },
  { what: 'backslash traversal', input: tar(MODEL, file('..\\..\\evil.dll', 'x')), reason: 'backslash', entry: '..\\..\\evil.dll' },
  { what: 'Windows drive letter', input: tar(MODEL, file('C:/Windows/evil.dll', 'x')), reason: 'drive-letter', entry: 'C:/Windows/evil.dll' },
  { what: 'drive-relative name', input: tar(MODEL, file('c:evil', 'x')), reason: 'drive-letter', entry: 'c:evil' },
  // what an entry is
  { what: 'symlink', input: tar(MODEL, header({ name: 'link', type: '2', linkname: '/etc/passwd' })), reason: 'link', entry: 'link', message: /symlink to "\/etc\/passwd"/ },
  { what: 'relative symlink', input: tar(header({ name: 'model.pkl', type: '2', linkname: 'real.pkl' }), file('real.pkl', 'x')), reason: 'link', entry: 'model.pkl' },
  { what: 'hardlink', input: tar(MODEL, header({ name: 'hard', type: '1', linkname: 'model.pkl' })), reason: 'link', entry: 'hard' },
  { what: 'character device', input: tar(MODEL, header({ name: 'dev/null', type: '3' })), reason: 'device', entry: 'dev/null' },
  { what: 'block device', input: tar(MODEL, header({ name: 'sda', type: '4' })), reason: 'device', entry: 'sda' },
  { what: 'FIFO', input: tar(MODEL, header({ name: 'pipe', type: '6' })), reason: 'fifo', entry: 'pipe' },
  { what: 'sparse file type', input: tar(MODEL, header({ name: 'sparse', type: 'S', size: 0 })), reason: 'unsupported-type', entry: 'sparse' },
  { what: 'GNU sparse pax map', input: tar(MODEL, pax({ 'GNU.sparse.map': '0,10', path: 'sp' }), file('sp', 'x')), reason: 'unsupported-type', entry: 'sp' },
  { what: 'volume header', input: tar(header({ name: 'VOL', type: 'V' }), MODEL), reason: 'unsupported-type', entry: 'VOL' },
  { what: 'directory with a body', input: tar(MODEL, Buffer.concat([header({ name: 'd/', type: '5', size: 512 }), header({ name: 'smuggled', size: 0 })])), reason: 'bad-size', entry: 'd/' },
  // collisions
  { what: 'exact duplicate file', input: tar(MODEL, file('model.pkl', 'other')), reason: 'duplicate', entry: 'model.pkl' },
  { what: 'duplicate after ./ normalisation', input: tar(MODEL, file('./model.pkl', 'other')), reason: 'duplicate', entry: './model.pkl' },
  { what: 'directory declared twice', input: tar(MODEL, dir('d/'), dir('d/')), reason: 'duplicate', entry: 'd/' },
  { what: 'NFC duplicate', input: tar(MODEL, file('caf\u00e9.txt', 'a'), file('cafe\u0301.txt', 'b')), reason: 'nfc-collision', entry: 'cafe\u0301.txt' },
  { what: 'NFC duplicate of a directory', input: tar(MODEL, file('caf\u00e9/a', 'a'), file('cafe\u0301/b', 'b')), reason: 'nfc-collision', entry: 'cafe\u0301/b' },
  { what: 'case-fold collision', input: tar(MODEL, file('Model.pkl', 'b')), reason: 'case-collision', entry: 'Model.pkl' },
  { what: 'file used as a directory', input: tar(MODEL, file('a', 'x'), file('a/b', 'y')), reason: 'file-dir-conflict', entry: 'a/b' },
  { what: 'directory replaced by a file', input: tar(MODEL, dir('a/'), file('a', 'x')), reason: 'file-dir-conflict', entry: 'a' },
  // names
  { what: 'NUL in a pax name', input: tar(MODEL, pax({ path: 'a\u0000b' }), file('x', 'x')), reason: 'control-character', entry: 'a\u0000b', message: /U\+0000/ },
  { what: 'terminal escape in a name', input: tar(MODEL, file('\u001b[2Jevil', 'x')), reason: 'control-character', entry: '\u001b[2Jevil', message: /"\\u001b\[2Jevil"/ },
  { what: 'newline in a name', input: tar(MODEL, file('a\nb', 'x')), reason: 'control-character', entry: 'a\nb' },
  { what: 'invalid UTF-8 name', input: tar(MODEL, header({ name: '', rawName: Buffer.from([0x61, 0xff, 0xfe, 0x62]) })), reason: 'invalid-utf8' },
  { what: 'empty name', input: tar(MODEL, pax({ path: '' }), file('x', 'x')), reason: 'empty-name' },
  { what: 'component over 255 bytes', input: tar(MODEL, pax({ path: `a/${'é'.repeat(128)}` }), file('x', 'x')), reason: 'component-too-long', entry: `a/${'é'.repeat(128)}` },
  { what: 'name over 4096 bytes', input: tar(MODEL, pax({ path: `${'d'.repeat(200)}/`.repeat(21) + 'f' }), file('x', 'x')), reason: 'name-too-long' },
  { what: 'nesting deeper than 64', input: tar(MODEL, pax({ path: 'a/'.repeat(65) + 'f' }), file('x', 'x')), reason: 'too-deep', message: /nested 66 levels deep, more than 64/ },
  // sizes
  { what: 'negative base-256 size (entry smuggling)', input: tar(MODEL, header({ name: 'a.txt', rawSize: NEGATIVE_SIZE }), header({ name: 'smuggled', size: 0 })), reason: 'bad-size', entry: 'a.txt', message: /negative/ },
  { what: 'negative octal size', input: tar(MODEL, header({ name: 'a.txt', rawSize: '-0000001024\0' })), reason: 'bad-size', entry: 'a.txt' },
  { what: 'garbage size', input: tar(MODEL, header({ name: 'a.txt', rawSize: '00000zzzz00\0' })), reason: 'bad-size', entry: 'a.txt' },
  { what: 'size beyond 2^53', input: tar(MODEL, header({ name: 'a.txt', rawSize: HUGE_SIZE })), reason: 'bad-size', entry: 'a.txt', message: /out of range/ },
  { what: 'size over the unpacked limit', input: tar(MODEL, header({ name: 'big', size: 11 * 1024 ** 3 })), reason: 'too-large', entry: 'big' },
  { what: 'negative pax size', input: tar(MODEL, pax({ size: '-5' }), file('x', 'x')), reason: 'bad-size' },
  // structure
  { what: 'malformed pax record', input: tar(MODEL, pax('999 path=x\n'), file('x', 'x')), reason: 'bad-pax' },
  { what: 'global pax path', input: tar(pax({ path: 'evil' }, true), MODEL), reason: 'bad-pax' },
  { what: 'oversized extended header', input: tar(MODEL, header({ name: 'PaxHeader', type: 'x', size: 2 * 1024 * 1024 })), reason: 'too-large' },
  { what: 'bad checksum mid-archive', input: tar(MODEL, header({ name: 'x', badChecksum: true })), reason: 'corrupt-header', message: /offset 1024, after entry "model.pkl"/ },
  { what: 'lone zero block, then an entry', input: tar(MODEL, Buffer.alloc(512), file('hidden', 'x')), reason: 'corrupt-header', message: /lone zero block/ },
  { what: 'data after the end marker', input: Buffer.concat([tar(MODEL), file('hidden', 'x')]), reason: 'trailing-data' },
  { what: 'extended header before the end', input: Buffer.concat([MODEL, pax({ path: 'x' }), END]), reason: 'corrupt-header' },
  // limits
  { what: 'more entries than the limit', input: tar(MODEL, ...Array.from({ length: 10 }, (_, i) => file(`f${i}`, 'x'))), reason: 'too-many-entries', entry: 'f9', limits: { maxEntries: 10 } },
  { what: 'declared sizes over the limit', input: tar(MODEL, file('a', Buffer.alloc(600)), file('b', Buffer.alloc(600))), reason: 'too-large', entry: 'b', limits: { maxUnpackedBytes: 1024, maxEntries: 100 }, message: /files declare 1206 bytes in total, more than the 1024-byte limit/ },
  { what: 'name index over its limit', input: tar(MODEL, file('x'.repeat(90), 'x'), file('y'.repeat(90), 'y')), reason: 'names-too-large', limits: { maxNameBytesTotal: 300 } },
];

describe('hostile archives are refused, naming the entry', () => {
  for (const c of CASES) {
    it(c.what, async () => {
      const err = await refusal(c.input, { type: 'sklearn', ...(c.limits ? { limits: c.limits } : {}) });
      expect(err.code).toBe('ARCHIVE_INVALID');
      expect(err.details['reason']).toBe(c.reason);
      if (c.entry !== undefined) {
        expect(err.details['entry']).toBe(c.entry);
        expect(err.message).toContain(JSON.stringify(c.entry));
      }
      if (c.message !== undefined) expect(err.message).toMatch(c.message);
    });
  }

  it('refuses the same hostile archives when gzip-compressed', async () => {
    for (const c of CASES.slice(0, 12)) {
      const err = await refusal(gzipSync(c.input), { type: 'sklearn' });
      expect(err.details['reason'], c.what).toBe(c.reason);
    }
  });

  it('still accepts a directory implied by files and declared afterwards, and zero padding after the end', async () => {
    const { report } = await inspect(Buffer.concat([tar(file('m/model.pkl', 'x'), dir('m/')), Buffer.alloc(8192)]), { type: 'sklearn' });
    expect(report.entries).toBe(2);
    expect(report.filename).toBe('m/model.pkl');
  });
});

describe('truncated and non-tar input', () => {
  const whole = tar(file('model.pkl', Buffer.alloc(2000, 1)), file('b', 'x'));
  const cuts: Array<[string, number, RegExp]> = [
    ['inside a body', 1000, /2000 bytes|bytes of this file's data missing/],
    ['inside a header', 512 + 2048 + 100, /inside a header block/],
    ['inside padding', 512 + 2010, /inside the padding/],
    ['before the end marker', whole.length - 1024, /no end-of-archive marker after entry "b"/],
    ['half-way through the end marker', whole.length - 512, /one zero block of two/],
  ];
  for (const [where, at, re] of cuts) {
    it(`refuses an archive cut ${where}`, async () => {
      const err = await refusal(whole.subarray(0, at), { type: 'sklearn' });
      expect(err.details['reason']).toBe('truncated');
      expect(err.message).toMatch(re);
    });
  }

  it('names the file whose body was cut', async () => {
    const err = await refusal(whole.subarray(0, 1000), { type: 'sklearn' });
    expect(err.details['entry']).toBe('model.pkl');
    expect(err.message).toContain('1512 bytes');
  });

  it('refuses a truncated gzip stream', async () => {
    const gz = gzipSync(whole);
    const err = await refusal(gz.subarray(0, gz.length - 10), { type: 'sklearn' });
    expect(err.details['reason']).toBe('truncated');
    expect(err.message).toMatch(/gzip stream is truncated/);
  });

  it('refuses corrupt gzip data', async () => {
    const gz = gzipSync(whole);
    gz.fill(0x55, 20, 40);
    const err = await refusal(gz, { type: 'sklearn' });
    expect(err.details['reason']).toBe('corrupt-gzip');
  });

  const notTar: Array<[string, Buffer, string, RegExp]> = [
    ['empty input', Buffer.alloc(0), 'not-tar', /empty/],
    ['a few bytes', Buffer.from('hello'), 'not-tar', /5 bytes, too short/],
    ['text', Buffer.from('just some text\n'.repeat(100)), 'not-tar', /not a tar archive/],
    ['random bytes', randomBytes(4096), 'not-tar', /not a tar archive/],
    ['a zip file', Buffer.concat([Buffer.from('PK\u0003\u0004', 'latin1'), Buffer.alloc(2000, 1)]), 'not-tar', /not a tar archive/],
    ['gzip of text', gzipSync('not a tar at all, only text '.repeat(50)), 'not-tar', /not a tar archive/],
    ['bzip2', Buffer.concat([Buffer.from('BZh91AY&SY', 'latin1'), Buffer.alloc(600)]), 'unsupported-compression', /bzip2-compressed/],
    ['xz', Buffer.concat([Buffer.from('fd377a585a00', 'hex'), Buffer.alloc(600)]), 'unsupported-compression', /xz-compressed/],
    ['zstd', Buffer.concat([Buffer.from('28b52ffd', 'hex'), Buffer.alloc(600)]), 'unsupported-compression', /zstd-compressed/],
    ['gzip inside gzip', gzipSync(gzipSync(tar(MODEL))), 'nested-compression', /gzip stream holds gzip-compressed data/],
  ];
  for (const [what, input, reason, re] of notTar) {
    it(`refuses ${what}`, async () => {
      const err = await refusal(input, { type: 'sklearn' });
      expect(err.details['reason']).toBe(reason);
      expect(err.message).toMatch(re);
    });
  }
});
