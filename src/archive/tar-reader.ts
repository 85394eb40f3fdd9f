/**
 * A push-style streaming tar reader: feed it bytes, it calls a visitor for
 * each entry's header, body chunks and end. It holds at most one header
 * block and one extended-header body in memory, never a file body.
 *
 * Why not node-tar's Parser: measured on v7.5.23, it turns a negative size
 * field into 0 without a warning (even with strict: true) and then parses
 * the entry's body as further headers, which lets an archive smuggle
 * entries past other readers; it buffers every byte written after the
 * end-of-archive marker (200 MB of trailing input = 200 MB of heap); and it
 * re-sniffs gzip/zstd inside already-decompressed data. Here every such
 * case is a refusal.
 */
import { refuse } from './refuse.js';
import { BLOCK, decodeHeader, decodeText, isZeroBlock, parsePax, type PaxRecords, type RawHeader } from './tar-header.js';

export type EntryKind =
  | 'file'
  | 'directory'
  | 'hardlink'
  | 'symlink'
  | 'char-device'
  | 'block-device'
  | 'fifo'
  | 'unsupported';

export interface TarEntryHeader {
  /** Name as stored (pax / GNU long name applied), not yet normalised. */
  path: string;
  kind: EntryKind;
  typeflag: string;
  size: number;
  mtime: Date;
  linkpath: string;
}

export interface TarVisitor {
  /** Throw to refuse the entry (and the archive). */
  entry(header: TarEntryHeader): void;
  data(chunk: Buffer): void;
  entryEnd(): void;
}

const KIND_BY_FLAG: Record<string, EntryKind> = {
  '': 'file',
  '0': 'file',
  '7': 'file', // contiguous file: a regular file everywhere that matters
  '5': 'directory',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char-device',
  '4': 'block-device',
  '6': 'fifo',
};

type State = 'header' | 'body' | 'meta' | 'padding' | 'end';
type MetaKind = 'x' | 'g' | 'L' | 'K';

interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
  mtime?: number;
  /** Extended headers read since the last entry, in order. */
  headers: MetaKind[];
}

export class TarReader {
  private state: State = 'header';
  private readonly headerBuf = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Bytes of the current body still to deliver, or padding still to skip. */
  private remaining = 0;
  private padding = 0;
  private metaKind: MetaKind = 'x';
  private metaBuf: Buffer = Buffer.alloc(0);
  private metaFill = 0;
  private pending: Pending = { headers: [] };
  private zeroBlocks = 0;
  private sawHeader = false;
  /** Offset in the tar stream, for messages. */
  private offset = 0;
  private lastEntry: string | undefined;
  private inEntry = false;

  constructor(
    private readonly visitor: TarVisitor,
    private readonly maxMetaBytes: number,
  ) {}

  /** True once the end-of-archive marker (two zero blocks) has been read. */
  get ended(): boolean {
    return this.state === 'end';
  }

  write(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      switch (this.state) {
        case 'header': {
          const n = Math.min(BLOCK - this.headerFill, chunk.length - pos);
          chunk.copy(this.headerBuf, this.headerFill, pos, pos + n);
          this.headerFill += n;
          pos += n;
          if (this.headerFill === BLOCK) {
            this.headerFill = 0;
            this.onHeaderBlock();
            this.offset += BLOCK;
          }
          break;
        }
        case 'body': {
          const n = Math.min(this.remaining, chunk.length - pos);
          this.visitor.data(chunk.subarray(pos, pos + n));
          this.remaining -= n;
          pos += n;
          this.offset += n;
          if (this.remaining === 0) this.finishEntry();
          break;
        }
        case 'meta': {
          const n = Math.min(this.remaining, chunk.length - pos);
          chunk.copy(this.metaBuf, this.metaFill, pos, pos + n);
          this.metaFill += n;
          this.remaining -= n;
          pos += n;
          this.offset += n;
          if (this.remaining === 0) {
            this.onMetaBody();
            this.state = this.padding > 0 ? 'padding' : 'header';
          }
          break;
        }
        case 'padding': {
          const n = Math.min(this.padding, chunk.length - pos);
          this.padding -= n;
          pos += n;
          this.offset += n;
          if (this.padding === 0) this.state = 'header';
          break;
        }
        case 'end': {
          // After the marker only zero padding (to the record size) may follow:
          // readers run with --ignore-zeros would read entries hidden here.
          for (; pos < chunk.length; pos++, this.offset++) {
            if (chunk[pos] !== 0) {
              throw refuse('trailing-data', `non-zero data after the end-of-archive marker at offset ${this.offset}`);
            }
          }
          break;
        }
      }
    }
  }

  /** Call at end of input; throws when the archive stopped early. */
  end(): void {
    if (this.state === 'end') return;
    if (!this.sawHeader && this.offset === 0 && this.headerFill === 0) {
      throw refuse('not-tar', 'input is empty, not a tar archive');
    }
    if (!this.sawHeader && this.zeroBlocks === 0) {
      throw refuse('not-tar', `input is ${this.offset + this.headerFill} bytes, too short to be a tar archive`);
    }
    const where = this.inEntry && this.lastEntry !== undefined ? this.lastEntry : undefined;
    if (this.state === 'body') {
      throw refuse('truncated', `archive is truncated: ${this.remaining} bytes of this file's data missing`, where);
    }
    if (this.state === 'meta' || this.hasPending()) {
      throw refuse('truncated', 'archive is truncated inside an extended header');
    }
    if (this.headerFill > 0) {
      throw refuse('truncated', `archive is truncated inside a header block at offset ${this.offset}`);
    }
    if (this.state === 'padding') {
      throw refuse('truncated', 'archive is truncated inside the padding after a file', this.lastEntry);
    }
    throw refuse(
      'truncated',
      this.zeroBlocks === 1
        ? 'archive is truncated: end-of-archive marker incomplete (one zero block of two)'
        : `archive is truncated: no end-of-archive marker after ${this.lastEntry === undefined ? 'the start' : `entry ${JSON.stringify(this.lastEntry)}`}`,
    );
  }

  /** Python's tarfile fails on any extended header not followed by an entry, even one that sets nothing. */
  private hasPending(): boolean {
    return this.pending.headers.length > 0;
  }

  private onHeaderBlock(): void {
    const block = this.headerBuf;
    if (isZeroBlock(block)) {
      if (this.hasPending()) throw refuse('corrupt-header', `extended header not followed by an entry at offset ${this.offset}`);
      this.zeroBlocks++;
      if (this.zeroBlocks === 2) this.state = 'end';
      return;
    }
    if (this.zeroBlocks === 1) {
      // A lone zero block ends the archive for some readers and not for others.
      throw refuse('corrupt-header', `lone zero block before offset ${this.offset}: entries after it would be hidden from some readers`);
    }
    const header = decodeHeader(block);
    if (header === null) {
      if (!this.sawHeader) throw refuse('not-tar', 'not a tar archive (no valid tar header at offset 0)');
      throw refuse(
        'corrupt-header',
        `invalid tar header (bad checksum or magic) at offset ${this.offset}${this.lastEntry === undefined ? '' : `, after entry ${JSON.stringify(this.lastEntry)}`}`,
      );
    }
    this.sawHeader = true;
    const t = header.typeflag;
    if (t === 'x' || t === 'g' || t === 'L' || t === 'K') {
      this.startMeta(t, header);
      return;
    }
    this.startEntry(header);
  }

  private startMeta(kind: MetaKind, header: RawHeader): void {
    if (header.size > this.maxMetaBytes) {
      throw refuse('too-large', `extended header of ${header.size} bytes exceeds the ${this.maxMetaBytes}-byte limit`, header.name);
    }
    this.refuseAmbiguousMeta(kind);
    this.pending.headers.push(kind);
    this.metaKind = kind;
    this.metaBuf = Buffer.alloc(header.size);
    this.metaFill = 0;
    this.remaining = header.size;
    this.padding = padOf(header.size);
    if (header.size === 0) {
      this.onMetaBody();
      this.state = 'header';
    } else {
      this.state = 'meta';
    }
  }

  private onMetaBody(): void {
    const body = this.metaBuf;
    this.metaBuf = Buffer.alloc(0);
    switch (this.metaKind) {
      case 'x': {
        const pax = parsePax(body, this.pending.path ?? '(pax header)');
        refuseSparse(pax);
        if (pax.path !== undefined && this.pending.headers.includes('L')) throw bothNames('name', pax.path);
        if (pax.linkpath !== undefined && this.pending.headers.includes('K')) throw bothNames('link target', pax.linkpath);
        if (pax.path !== undefined) this.pending.path = pax.path;
        if (pax.linkpath !== undefined) this.pending.linkpath = pax.linkpath;
        if (pax.size !== undefined) this.pending.size = pax.size;
        if (pax.mtime !== undefined) this.pending.mtime = pax.mtime;
        break;
      }
      case 'g': {
        // Global headers (git archive writes one with the commit id) are
        // ignored, unless they try to rename or resize what follows.
        const pax = parsePax(body, '(global pax header)');
        refuseSparse(pax);
        if (pax.path !== undefined || pax.linkpath !== undefined || pax.size !== undefined) {
          throw refuse('bad-pax', 'global pax header sets path, linkpath or size for every following entry');
        }
        break;
      }
      case 'L': {
        const name = decodeText(body, 'GNU long name');
        if (this.pending.path !== undefined) throw bothNames('name', name);
        this.pending.path = name;
        break;
      }
      case 'K': {
        const name = decodeText(body, 'GNU long link name');
        if (this.pending.linkpath !== undefined) throw bothNames('link target', name);
        this.pending.linkpath = name;
        break;
      }
    }
  }

  /**
   * GNU tar and Python's tarfile resolve a second extended header of one
   * kind in opposite ways (GNU tar: the last one counts; Python: the first,
   * because it applies them outermost last), so any repetition is refused.
   * Global headers may repeat: they only ever carry what names nothing.
   */
  private refuseAmbiguousMeta(kind: MetaKind): void {
    if (kind === 'g' || !this.pending.headers.includes(kind)) return;
    const what = kind === 'x' ? 'pax extended headers' : kind === 'L' ? 'GNU long-name headers' : 'GNU long-link headers';
    throw refuse(
      'ambiguous-header',
      `two ${what} for one entry at offset ${this.offset}: GNU tar applies the last, Python's tarfile the first`,
      this.pending.path,
    );
  }

  private startEntry(header: RawHeader): void {
    const p = this.pending;
    const named = p.path !== undefined;
    this.pending = { headers: [] };
    const path = p.path ?? header.name;
    const size = p.size ?? header.size;
    const seconds = p.mtime ?? header.mtime;
    const mtime = new Date(seconds * 1000);
    if (Number.isNaN(mtime.getTime())) throw refuse('corrupt-header', `mtime ${seconds} is out of range`, path);
    const kind: EntryKind = KIND_BY_FLAG[header.typeflag] ?? 'unsupported';
    const effective: EntryKind = kind === 'file' ? fileOrOldDirectory(header, path, named) : kind;
    this.lastEntry = path;
    this.inEntry = true;
    this.visitor.entry({ path, kind: effective, typeflag: header.typeflag, size, mtime, linkpath: p.linkpath ?? header.linkname });
    this.remaining = size;
    this.padding = padOf(size);
    if (size === 0) this.finishEntry();
    else this.state = 'body';
  }

  private finishEntry(): void {
    this.inEntry = false;
    this.visitor.entryEnd();
    this.state = this.padding > 0 ? 'padding' : 'header';
  }
}

/**
 * Old (v7) tars mark a directory as a type-NUL file whose name ends in '/'.
 * GNU tar makes a directory of any regular-file type (NUL, '0', '7') whose
 * final name ends in '/'; Python's tarfile only of type NUL, and only when
 * the 100-byte name field itself ends in '/' (it strips the slash from a pax
 * path and ignores it on a GNU long name). Only the case both read as a
 * directory is one; the others are refused, as is a file named '.'.
 */
function fileOrOldDirectory(header: RawHeader, path: string, named: boolean): EntryKind {
  const fieldSlash = header.nameField.endsWith('/');
  const pathSlash = path.endsWith('/');
  if (header.typeflag === '' && fieldSlash && pathSlash && !named) return 'directory';
  if (fieldSlash || pathSlash) {
    throw refuse(
      'ambiguous-header',
      `regular-file entry (type ${JSON.stringify(header.typeflag || 'NUL')}) whose name ends in '/': a directory to GNU tar, a file to Python's tarfile`,
      path,
    );
  }
  if (path === '.' || path.endsWith('/.')) throw refuse('ambiguous-header', "a file entry named '.': readers disagree on what it replaces", path);
  return 'file';
}

function bothNames(what: string, name: string): Error {
  return refuse(
    'ambiguous-header',
    `entry has both a GNU long ${what} and a pax ${what === 'name' ? 'path' : 'linkpath'}: GNU tar uses the pax one, Python's tarfile whichever comes first`,
    name,
  );
}

function padOf(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function refuseSparse(pax: PaxRecords): void {
  // GNU sparse files store a map in pax records and a different byte layout
  // in the body; a reader that ignores the map sees different file contents.
  const sparse = pax.keys.find((k) => k.startsWith('GNU.sparse.'));
  if (sparse !== undefined) throw refuse('unsupported-type', `sparse file (pax key ${sparse}) is not supported`, pax.path);
}
