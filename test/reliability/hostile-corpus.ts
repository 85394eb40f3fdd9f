/**
 * The hostile-archive corpus of issue 9.2, generated: every archive starts
 * with `lead` (the legitimate file a stored model holds, so a tampered copy
 * passes the manifest up to the hostile entry) and then does one bad thing.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { END, dir, file, header, pax, tar } from '../archive/tar-writer.js';

export interface HostileArchive {
  what: string;
  bytes: Buffer;
  /** The refusal reasons that are right for it (details.reason). */
  reasons: string[];
}

/** base-256 size field holding -1024. */
const NEGATIVE_SIZE = Buffer.from('fffffffffffffffffffffc00', 'hex');
/** base-256 size field far beyond 2^53. */
const HUGE_SIZE = Buffer.from('80ffffffffffffffffffffff', 'hex');

/** A gzip stream of a tar whose one file is `size` zeros; only the first `zeros` bytes of it are compressed. */
function zeroBomb(lead: Buffer, size: number, zeros: number): Buffer {
  return gzipSync(Buffer.concat([lead, header({ name: 'weights.bin', size }), Buffer.alloc(zeros)]), { level: 9 });
}

/**
 * @param lead   the legitimate first entry (header + body + padding)
 * @param victim an absolute directory outside every tree the registry writes to:
 *               absolute and link targets point into it
 */
export function hostileCorpus(lead: Buffer, victim: string): HostileArchive[] {
  const deep = (levels: number) => Array.from({ length: levels }, (_, i) => `d${i % 10}`).join('/');
  const many = (n: number) => {
    const parts: Buffer[] = [lead];
    for (let i = 0; i < n; i++) parts.push(header({ name: `f/${i}`, size: 0 }));
    return gzipSync(tar(...parts));
  };
  return [
    // where a name points
    { what: 'absolute path', bytes: tar(lead, file(`${victim}/abs-pwned`, 'x')), reasons: ['absolute-path'] },
    { what: 'absolute /etc/passwd', bytes: tar(lead, file('/etc/passwd', 'root::0:0::/:/bin/sh\n')), reasons: ['absolute-path'] },
    { what: '//// prefix', bytes: tar(lead, file(`////${victim.replace(/^\/+/, '')}/slashes`, 'x')), reasons: ['absolute-path'] },
    { what: '.. traversal', bytes: tar(lead, file('../../../../../../../../tmp/dotdot-pwned', 'x')), reasons: ['parent-traversal'] },
    { what: '.. after a directory', bytes: tar(lead, file('a/b/../../../escape', 'x')), reasons: ['parent-traversal'] },
    { what: '.. in a pax path', bytes: tar(lead, pax({ path: `../..${victim}/pax-pwned` }), file('harmless', 'x')), reasons: ['parent-traversal'] },
    { what: 'backslash traversal', bytes: tar(lead, file('..\\..\\evil', 'x')), reasons: ['backslash'] },
    { what: 'drive letter', bytes: tar(lead, file('C:/Windows/evil.dll', 'x')), reasons: ['drive-letter'] },
    // links
    { what: 'symlink inside the tree', bytes: tar(lead, header({ name: 'alias.bin', type: '2', linkname: 'model.pkl' })), reasons: ['link'] },
    {
      what: 'symlink outside, then a file through it',
      bytes: tar(lead, header({ name: 'out', type: '2', linkname: victim }), file('out/through-symlink', 'x')),
      reasons: ['link'],
    },
    { what: 'symlink to ..', bytes: tar(lead, header({ name: 'up', type: '2', linkname: '../../..' }), file('up/x', 'x')), reasons: ['link'] },
    { what: 'hardlink inside the tree', bytes: tar(lead, header({ name: 'hard.bin', type: '1', linkname: 'weights' })), reasons: ['link'] },
    { what: 'hardlink outside the tree', bytes: tar(lead, header({ name: 'passwd', type: '1', linkname: '/etc/passwd' })), reasons: ['link'] },
    {
      what: 'hardlink followed by a file of the same name',
      bytes: tar(lead, header({ name: 'victim', type: '1', linkname: `${victim}/canary` }), file('victim', 'overwritten through a hardlink')),
      reasons: ['link'],
    },
    // names
    { what: 'ß and ss (one file after case folding)', bytes: tar(lead, file('straße.bin', 'a'), file('strasse.bin', 'b')), reasons: ['fold-collision'] },
    { what: 'NFC and NFD forms of one name', bytes: tar(lead, file('caf\u00e9.bin', 'a'), file('cafe\u0301.bin', 'b')), reasons: ['nfc-collision'] },
    { what: 'names differing by case', bytes: tar(lead, file('W.bin', 'a'), file('w.bin', 'b')), reasons: ['case-collision'] },
    { what: 'duplicate entries', bytes: tar(lead, file('twice.bin', 'first'), file('twice.bin', 'second')), reasons: ['duplicate'] },
    { what: 'duplicate after ./', bytes: tar(lead, file('twice.bin', 'first'), file('./twice.bin', 'second')), reasons: ['duplicate'] },
    { what: 'NUL in a name', bytes: tar(lead, pax({ path: 'evil\u0000.bin' }), file('x', 'x')), reasons: ['control-character'] },
    { what: 'terminal escape in a name', bytes: tar(lead, file('\u001b]0;owned\u0007.bin', 'x')), reasons: ['control-character'] },
    { what: 'newline in a name', bytes: tar(lead, file('a\nb', 'x')), reasons: ['control-character'] },
    { what: 'C1 control in a name', bytes: tar(lead, pax({ path: 'a\u0085b' }), file('x', 'x')), reasons: ['control-character'] },
    { what: '300-byte name', bytes: tar(lead, pax({ path: 'n'.repeat(300) }), file('x', 'x')), reasons: ['component-too-long'] },
    { what: '1,100-level nesting', bytes: tar(lead, pax({ path: `${deep(1100)}/f` }), file('x', 'x')), reasons: ['too-deep'] },
    {
      what: '1,100 nested directory entries',
      bytes: tar(lead, ...Array.from({ length: 1100 }, (_, i) => Buffer.concat([pax({ path: `${deep(i + 1)}/` }), dir('x/')]))),
      reasons: ['too-deep'],
    },
    // entry types
    { what: 'FIFO', bytes: tar(lead, header({ name: 'pipe', type: '6' })), reasons: ['fifo'] },
    { what: 'character device', bytes: tar(lead, header({ name: 'null', type: '3' })), reasons: ['device'] },
    { what: 'block device', bytes: tar(lead, header({ name: 'sda', type: '4' })), reasons: ['device'] },
    // sizes and structure
    { what: 'negative size field', bytes: tar(lead, header({ name: 'neg.bin', rawSize: NEGATIVE_SIZE }), header({ name: 'smuggled', size: 0 })), reasons: ['bad-size'] },
    { what: 'negative octal size', bytes: tar(lead, header({ name: 'neg.bin', rawSize: '-0000001024\0' })), reasons: ['bad-size'] },
    { what: 'size beyond 2^53', bytes: tar(lead, header({ name: 'huge.bin', rawSize: HUGE_SIZE })), reasons: ['bad-size'] },
    { what: 'oversized size field (11 GiB)', bytes: tar(lead, header({ name: 'big.bin', size: 11 * 1024 ** 3 })), reasons: ['too-large'] },
    { what: 'truncated body', bytes: Buffer.concat([lead, header({ name: 'cut.bin', size: 4096 }), Buffer.alloc(1000, 1)]), reasons: ['truncated'] },
    { what: 'no end-of-archive marker', bytes: Buffer.concat([lead, file('x', 'x')]), reasons: ['truncated'] },
    { what: 'truncated gzip', bytes: gzipSync(tar(lead, file('x', randomBytes(5000)))).subarray(0, 600), reasons: ['truncated'] },
    { what: 'data after the end marker', bytes: Buffer.concat([tar(lead), file('hidden', 'x')]), reasons: ['trailing-data'] },
    { what: 'lone zero block, then an entry', bytes: tar(lead, Buffer.alloc(512), file('hidden', 'x')), reasons: ['corrupt-header'] },
    { what: 'bad header checksum', bytes: tar(lead, header({ name: 'x', badChecksum: true })), reasons: ['corrupt-header'] },
    { what: '100,000 entries', bytes: many(100_000), reasons: ['too-many-entries'] },
    // compression
    { what: 'gzip bomb (ratio over 1000)', bytes: zeroBomb(lead, 9 * 1024 ** 3, 24 * 1024 * 1024), reasons: ['compression-ratio'] },
    { what: 'gzip inside gzip', bytes: gzipSync(gzipSync(tar(lead))), reasons: ['nested-compression'] },
    { what: 'xz data', bytes: Buffer.concat([Buffer.from('fd377a585a00', 'hex'), randomBytes(600)]), reasons: ['unsupported-compression'] },
    // not a tar
    { what: 'random bytes', bytes: randomBytes(8192), reasons: ['not-tar'] },
    { what: 'text', bytes: Buffer.from('root:x:0:0:root:/root:/bin/bash\n'.repeat(40)), reasons: ['not-tar'] },
    { what: 'zip file', bytes: Buffer.concat([Buffer.from('PK\u0003\u0004', 'latin1'), randomBytes(2000)]), reasons: ['not-tar'] },
    { what: 'ELF executable', bytes: Buffer.concat([Buffer.from('\u007fELF', 'latin1'), randomBytes(4000)]), reasons: ['not-tar'] },
    { what: 'empty file', bytes: Buffer.alloc(0), reasons: ['not-tar'] },
    { what: 'only an end marker', bytes: END, reasons: ['missing-required', 'not-tar'] },
  ];
}
