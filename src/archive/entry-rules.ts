/**
 * Per-entry refusals: what a single header may not be, regardless of the
 * rest of the archive. Cross-entry rules (duplicates, collisions) live in
 * name-index.ts.
 */
import { refuse } from './refuse.js';
import type { TarEntryHeader } from './tar-reader.js';
import type { ArchiveLimits } from './types.js';

// C0 controls, DEL and C1 controls: none has a place in a file name, and
// several (ESC, CR, BEL) can rewrite a terminal that lists the archive.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const DRIVE = /^[A-Za-z]:/;

/**
 * Turns a stored name into the relative '/'-separated path it would unpack
 * to, refusing anything that could land outside the destination or read
 * differently on another system. Returns '' for the archive root ('./').
 *
 * `.` segments and repeated slashes are dropped (tar -C dir . writes
 * `./name`); any `..` segment is refused even when it would stay inside,
 * since no honest archive needs one.
 */
export function normalizeEntryPath(raw: string, limits: ArchiveLimits): string {
  if (raw === '') throw refuse('empty-name', 'entry name is empty', raw);
  const control = CONTROL.exec(raw);
  if (control !== null) {
    const code = control[0].codePointAt(0) ?? 0;
    throw refuse('control-character', `name contains control character U+${code.toString(16).padStart(4, '0').toUpperCase()}`, raw);
  }
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > limits.maxPathBytes) {
    throw refuse('name-too-long', `name is ${bytes} bytes, more than ${limits.maxPathBytes}`, raw);
  }
  // Backslash is a separator on Windows: `..\\..\\x` escapes there.
  if (raw.includes('\\')) throw refuse('backslash', 'name contains a backslash (a path separator on Windows)', raw);
  if (raw.startsWith('/')) throw refuse('absolute-path', 'absolute path', raw);
  if (DRIVE.test(raw)) throw refuse('drive-letter', 'name starts with a Windows drive letter', raw);
  const segments: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') throw refuse('parent-traversal', "name contains a '..' component", raw);
    const segBytes = Buffer.byteLength(segment, 'utf8');
    if (segBytes > limits.maxComponentBytes) {
      throw refuse('component-too-long', `a path component is ${segBytes} bytes, more than ${limits.maxComponentBytes}`, raw);
    }
    segments.push(segment);
  }
  if (segments.length > limits.maxDepth) {
    throw refuse('too-deep', `name is nested ${segments.length} levels deep, more than ${limits.maxDepth}`, raw);
  }
  return segments.join('/');
}

/** Only regular files and directories are ever accepted. */
export function checkEntryKind(header: TarEntryHeader, limits: ArchiveLimits): void {
  const { path } = header;
  switch (header.kind) {
    case 'file':
      if (header.size > limits.maxUnpackedBytes) {
        throw refuse('too-large', `file declares ${header.size} bytes, more than the ${limits.maxUnpackedBytes}-byte limit`, path);
      }
      return;
    case 'directory':
      // A directory with a body is read as data by some readers and as
      // further headers by others.
      if (header.size !== 0) throw refuse('bad-size', `directory entry declares ${header.size} bytes of data`, path);
      return;
    case 'symlink':
    case 'hardlink':
      throw refuse('link', `${header.kind} to ${JSON.stringify(header.linkpath)}: links are not allowed in model archives`, path, {
        linkpath: header.linkpath,
      });
    case 'char-device':
    case 'block-device':
      throw refuse('device', `${header.kind.replace('-', ' ')} entries are not allowed`, path);
    case 'fifo':
      throw refuse('fifo', 'FIFO (named pipe) entries are not allowed', path);
    case 'unsupported':
      throw refuse('unsupported-type', `unsupported entry type ${JSON.stringify(header.typeflag)} (${TYPE_NAMES[header.typeflag] ?? 'unknown'})`, path);
  }
}

const TYPE_NAMES: Record<string, string> = {
  A: 'Solaris ACL',
  D: 'GNU dump directory',
  I: 'inode metadata',
  M: 'GNU multi-volume continuation',
  N: 'old GNU long name',
  S: 'GNU sparse file',
  V: 'tape volume header',
  X: 'Solaris extended header',
};
