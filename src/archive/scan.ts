/**
 * The tar-level inspection shared by import (inspect.ts) and pull/deploy
 * (extract.ts): applies every entry rule, hashes each file, builds the
 * manifest and checks the required files. Writers hook in through
 * `FileSink` to receive accepted files only.
 */
import { createHash, type Hash } from 'node:crypto';
import { checkEntryKind, normalizeEntryPath } from './entry-rules.js';
import { NameIndex } from './name-index.js';
import { refuse } from './refuse.js';
import { RequiredFiles } from './required-files.js';
import { TarReader, type TarEntryHeader, type TarVisitor } from './tar-reader.js';
import type { ArchiveLimits, ManifestEntry, ModelFormat, ModelType } from './types.js';

export interface FileSink {
  directory(path: string): void;
  fileStart(path: string, size: number): void;
  fileData(chunk: Buffer): void;
  /** Called after the file's last byte, with its hash. */
  fileEnd(entry: ManifestEntry): void;
}

export interface ScanResult {
  manifest: ManifestEntry[];
  entries: number;
  totalUnpackedSize: number;
  format?: ModelFormat;
  filename?: string;
}

interface OpenFile {
  path: string;
  size: number;
  mtime: string;
  /** Null for a file whose reader checks its bytes itself (its manifest entry then has sha256 ''). */
  hash: Hash | null;
}

export class ArchiveScanner implements TarVisitor {
  private readonly reader: TarReader;
  private readonly names: NameIndex;
  private readonly required: RequiredFiles | undefined;
  private readonly manifest: ManifestEntry[] = [];
  private entries = 0;
  private declaredBytes = 0;
  private open: OpenFile | undefined;

  constructor(
    private readonly limits: ArchiveLimits,
    type: ModelType | undefined,
    private readonly sink?: FileSink,
    /** Whether to hash a file: a sink that streams a file into a store which checks its digest as it writes says no, so its bytes are hashed once. */
    private readonly hashes: (path: string) => boolean = () => true,
  ) {
    this.reader = new TarReader(this, limits.maxMetaBytes);
    this.names = new NameIndex(limits);
    this.required = type === undefined ? undefined : new RequiredFiles(type);
  }

  /** Decompressed tar bytes in. */
  write(chunk: Buffer): void {
    this.reader.write(chunk);
  }

  /** End of tar bytes: throws if truncated, or if required files are missing. */
  finish(): ScanResult {
    this.reader.end();
    const result: ScanResult = { manifest: this.manifest, entries: this.entries, totalUnpackedSize: this.declaredBytes };
    if (this.required !== undefined) Object.assign(result, this.required.finish());
    return result;
  }

  entry(header: TarEntryHeader): void {
    this.entries++;
    if (this.entries > this.limits.maxEntries) {
      throw refuse('too-many-entries', `archive has more than ${this.limits.maxEntries} entries`, header.path);
    }
    const path = normalizeEntryPath(header.path, this.limits);
    checkEntryKind(header, this.limits);
    const kind = header.kind === 'directory' ? 'directory' : 'file';
    this.names.add(path, kind, header.path);
    this.required?.observe(path, kind);
    if (kind === 'directory') {
      if (path !== '') this.sink?.directory(path);
      return;
    }
    // Refuse a bomb from its headers, before reading its body.
    this.declaredBytes += header.size;
    if (this.declaredBytes > this.limits.maxUnpackedBytes) {
      throw refuse('too-large', `files declare ${this.declaredBytes} bytes in total, more than the ${this.limits.maxUnpackedBytes}-byte limit`, header.path);
    }
    this.open = { path, size: header.size, mtime: header.mtime.toISOString(), hash: this.hashes(path) ? createHash('sha256') : null };
    this.sink?.fileStart(path, header.size);
  }

  data(chunk: Buffer): void {
    // Bodies of directories are refused in checkEntryKind, so data is a file's.
    if (this.open === undefined) return;
    this.open.hash?.update(chunk);
    this.sink?.fileData(chunk);
  }

  entryEnd(): void {
    const f = this.open;
    if (f === undefined) return;
    this.open = undefined;
    const entry: ManifestEntry = { path: f.path, size: f.size, mtime: f.mtime, sha256: f.hash?.digest('hex') ?? '' };
    this.manifest.push(entry);
    this.sink?.fileEnd(entry);
  }
}
