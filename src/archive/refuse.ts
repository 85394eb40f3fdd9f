import { MlmodelError } from '../errors.js';

/**
 * Machine-readable reason for a refusal; tests and callers branch on this
 * rather than on message wording.
 */
export type RefusalReason =
  | 'not-tar'
  | 'unsupported-compression'
  | 'nested-compression'
  | 'corrupt-gzip'
  | 'corrupt-header'
  | 'ambiguous-header'
  | 'truncated'
  | 'trailing-data'
  | 'empty-name'
  | 'control-character'
  | 'invalid-utf8'
  | 'backslash'
  | 'absolute-path'
  | 'drive-letter'
  | 'parent-traversal'
  | 'name-too-long'
  | 'component-too-long'
  | 'too-deep'
  | 'too-many-entries'
  | 'names-too-large'
  | 'link'
  | 'device'
  | 'fifo'
  | 'unsupported-type'
  | 'bad-size'
  | 'too-large'
  | 'compression-ratio'
  | 'duplicate'
  | 'nfc-collision'
  | 'case-collision'
  | 'fold-collision'
  | 'file-dir-conflict'
  | 'bad-pax'
  | 'missing-required'
  | 'manifest-mismatch';

/**
 * Entry names come from the archive, i.e. from an attacker: quote them with
 * JSON escapes so a control character or terminal escape in a name cannot
 * garble the message it appears in.
 */
function quoteName(name: string): string {
  return JSON.stringify(name);
}

export function refuse(
  reason: RefusalReason,
  problem: string,
  entry?: string,
  details: Record<string, unknown> = {},
): MlmodelError {
  const message = entry === undefined ? `archive refused: ${problem}` : `archive refused: entry ${quoteName(entry)}: ${problem}`;
  return new MlmodelError('ARCHIVE_INVALID', message, { reason, ...(entry === undefined ? {} : { entry }), ...details });
}
