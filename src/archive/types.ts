/**
 * Types at the boundary of the archive layer: what callers pass in
 * (model type, limits, options) and what they get back (the report).
 */

export const MODEL_TYPES = ['r', 'sklearn', 'spark', 'tf', 'onnx'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/** Inferred from the archive's contents, recorded as the model's `format`. */
export type ModelFormat = 'rda' | 'pickle' | 'spark' | 'saved_model' | 'h5' | 'onnx';

export interface ArchiveLimits {
  /** Entries (files + directories) the archive may hold. */
  maxEntries: number;
  /** Path components in one entry name. */
  maxDepth: number;
  /** UTF-8 bytes in one whole entry name. */
  maxPathBytes: number;
  /** UTF-8 bytes in one path component. */
  maxComponentBytes: number;
  /** Bytes of all names registered (entries plus the directories they imply); bounds the name index. */
  maxNameBytesTotal: number;
  /** Bytes of the uncompressed tar stream, and of all declared file sizes. */
  maxUnpackedBytes: number;
  /** Decompressed/compressed ratio allowed once past `ratioGraceBytes` of output. */
  maxCompressionRatio: number;
  /** Small archives of zeros compress extremely well and are harmless; the ratio check starts after this. */
  ratioGraceBytes: number;
  /** Body of one pax extended header or GNU long-name record. */
  maxMetaBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxEntries: 50_000,
  maxDepth: 64,
  maxPathBytes: 4096,
  maxComponentBytes: 255,
  maxNameBytesTotal: 16 * 1024 * 1024,
  maxUnpackedBytes: 10 * 1024 ** 3,
  maxCompressionRatio: 1000,
  ratioGraceBytes: 8 * 1024 * 1024,
  maxMetaBytes: 1024 * 1024,
});

export interface ManifestEntry {
  /** Normalised relative path: '/'-separated, no leading './', no trailing '/'. */
  path: string;
  size: number;
  /** ISO-8601 modification time from the tar header. */
  mtime: string;
  /** Hex sha256 of the file's bytes. */
  sha256: string;
}

export interface ArchiveReport {
  /** Hex sha256 of the original bytes as received (compressed if the source was). */
  sha256: string;
  /** Number of original bytes. */
  size: number;
  /** True when the source was gzip (detected by magic bytes, not by name). */
  compressed: boolean;
  format: ModelFormat;
  /** The main model file (IRIS's `filename`), e.g. `export/1/saved_model.pb`. */
  filename: string;
  /** Every regular file, in archive order. */
  manifest: ManifestEntry[];
  /** Files and directories in the archive (extended headers not counted). */
  entries: number;
  /** Sum of regular file sizes. */
  totalUnpackedSize: number;
}

export interface InspectOptions {
  type: ModelType | string;
  limits?: Partial<ArchiveLimits>;
  signal?: AbortSignal;
  /** Called with the cumulative number of original bytes read so far. */
  onProgress?: (bytes: number) => void;
  /**
   * Hash the original bytes (default true). An import turns it off: the
   * object store hashes the same bytes as it stores them, and one pass over a
   * big archive is seconds of CPU. The report's sha256 is then ''.
   */
  hashArchive?: boolean;
}

export interface ExtractOptions {
  /** When given, the archive must also satisfy that type's required files. */
  type?: ModelType | string;
  /**
   * When given, the archive must hold exactly these files with these sizes
   * and sha256s (e.g. the manifest recorded at import).
   */
  manifest?: readonly ManifestEntry[];
  /** Replace files that already exist in destDir (default: refuse). */
  overwrite?: boolean;
  limits?: Partial<ArchiveLimits>;
  signal?: AbortSignal;
}

export interface ExtractReport {
  destDir: string;
  /** Files written, relative to destDir, in archive order. */
  files: ManifestEntry[];
  /** Original bytes read from the source. */
  size: number;
  sha256: string;
  compressed: boolean;
}

export function resolveLimits(partial?: Partial<ArchiveLimits>): ArchiveLimits {
  return { ...DEFAULT_LIMITS, ...(partial ?? {}) };
}
