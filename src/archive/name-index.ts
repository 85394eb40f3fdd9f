/**
 * Cross-entry name rules. Every accepted name, and every directory it
 * implies, is keyed by its Unicode-NFC, lower-cased form: two names that
 * map to one key would be one file on a case-insensitive or
 * normalisation-insensitive disk (macOS, Windows), so the second silently
 * replaces the first there. We refuse:
 *   - exact duplicates (a later entry would overwrite an earlier one),
 *   - NFC duplicates ("café" precomposed vs decomposed),
 *   - case-fold collisions ("Model.pkl" vs "model.pkl"),
 *   - compatibility and full case-folding collisions ("straße" vs "strasse", "ﬁle" vs "file"),
 *   - a file used as a directory, or a directory replaced by a file.
 * A directory may be declared once after being implied by earlier files
 * (some writers list `a/b` before `a/`); declared twice is a duplicate.
 */
import { refuse } from './refuse.js';
import type { ArchiveLimits } from './types.js';

interface Known {
  path: string;
  kind: 'file' | 'directory';
  declared: boolean;
}

export class NameIndex {
  private readonly known = new Map<string, Known>();
  private nameBytes = 0;

  constructor(private readonly limits: ArchiveLimits) {}

  /** `path` is already normalised (see normalizeEntryPath); '' is the root. */
  add(path: string, kind: 'file' | 'directory', raw: string): void {
    if (path === '') {
      if (kind === 'file') throw refuse('empty-name', 'a file entry names the archive root', raw);
      return; // './' says nothing about the tree
    }
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const dir = segments.slice(0, i).join('/');
      const seen = this.known.get(foldKey(dir));
      if (seen === undefined) {
        this.register(dir, { path: dir, kind: 'directory', declared: false }, raw);
      } else if (seen.kind === 'file') {
        throw refuse('file-dir-conflict', `${JSON.stringify(seen.path)} is a file in this archive but is used here as a directory`, raw, {
          other: seen.path,
        });
      } else if (seen.path !== dir) {
        throw collision(dir, seen.path, raw);
      }
    }
    const key = foldKey(path);
    const seen = this.known.get(key);
    if (seen === undefined) {
      this.register(path, { path, kind, declared: true }, raw);
      return;
    }
    if (seen.path !== path) throw collision(path, seen.path, raw);
    if (seen.kind === 'directory' && kind === 'directory' && !seen.declared) {
      seen.declared = true;
      return;
    }
    if (seen.kind !== kind) {
      throw refuse('file-dir-conflict', `${JSON.stringify(path)} appears both as a file and as a directory`, raw, { other: seen.path });
    }
    throw refuse('duplicate', 'duplicate entry: this name appears more than once', raw, { other: seen.path });
  }

  private register(path: string, known: Known, raw: string): void {
    this.nameBytes += path.length * 2;
    if (this.nameBytes > this.limits.maxNameBytesTotal) {
      throw refuse('names-too-large', `entry names exceed the ${this.limits.maxNameBytesTotal}-byte index limit`, raw);
    }
    this.known.set(foldKey(path), known);
  }
}

/**
 * NFKC, then full case folding (lower- then upper-casing turns ß and ẞ into SS and
 * ligatures such as ﬁ into FI, which lower-casing alone keeps apart), then
 * NFC again: "Straße" and "STRASSE", "ﬁle" and "file" share one key.
 */
function foldKey(path: string): string {
  return path.normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().normalize('NFC');
}

function collision(path: string, other: string, raw: string): Error {
  if (path.normalize('NFC') === other.normalize('NFC')) {
    return refuse('nfc-collision', `name is the same as ${JSON.stringify(other)} after Unicode NFC normalisation`, raw, { other });
  }
  if (path.normalize('NFC').toLowerCase() === other.normalize('NFC').toLowerCase()) {
    return refuse('case-collision', `name differs from ${JSON.stringify(other)} only by letter case (they clash on case-insensitive disks)`, raw, {
      other,
    });
  }
  return refuse(
    'fold-collision',
    `name is the same as ${JSON.stringify(other)} after Unicode compatibility normalisation and case folding (ß = ss, ﬁ = fi): they clash on case- or normalisation-insensitive disks`,
    raw,
    { other },
  );
}
