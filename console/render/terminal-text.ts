import { UNSAFE_CHAR_SOURCE } from '../../grammar/control-chars.js';

/** Which harmless layout characters a caller keeps as they are; everything else unsafe is escaped. */
export interface KeepLayout {
  /** `\n` and `\r\n` line breaks (the caller lays out lines itself). */
  readonly lines?: boolean;
  /** `\t` (harmless to a terminal, but it breaks a table's columns). */
  readonly tabs?: boolean;
  /** A lone `\r`, for an encoder that escapes it itself (TSV). */
  readonly returns?: boolean;
}

// `\r\n` first so that a kept line break stays one unit; then a backslash
// that would otherwise read as the start of an escape; then any unsafe char.
const PATTERN = new RegExp(`\\r\\n|\\\\(?=[\\\\xu]|${UNSAFE_CHAR_SOURCE})|${UNSAFE_CHAR_SOURCE}`, 'gu');
const QUICK = new RegExp(`[\\\\]|${UNSAFE_CHAR_SOURCE}`, 'u');

/**
 * Text from a store (other users' names, descriptions, tags, error messages
 * quoting them) as it may be shown on a terminal: every control, bidi and
 * invisible format character, and every lone surrogate, becomes a visible
 * escape — `\x1b` for code points up to U+00FF, `\u{202e}` above — so an OSC
 * title or clipboard sequence, a cursor move, a colour or a right-to-left
 * override shows as text instead of acting.
 *
 * The escape is reversible (`fromTerminalText`): a backslash is doubled
 * exactly where it would otherwise read as the start of an escape (before
 * `\`, `x`, `u` or an escaped character), so `C:\Users` and most text with
 * backslashes prints unchanged, and two different strings never print alike.
 */
export function terminalText(text: string, keep: KeepLayout = {}): string {
  if (!QUICK.test(text)) return text;
  return text.replace(PATTERN, (m) => {
    if (m === '\r\n') return keep.lines ? m : '\\x0d\\x0a';
    if (m === '\\') return '\\\\';
    if ((m === '\n' && keep.lines) || (m === '\t' && keep.tabs) || (m === '\r' && keep.returns)) return m;
    return escapeChar(m);
  });
}

function escapeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
}

/** The inverse of `terminalText`: the stored text back from what was shown. */
export function fromTerminalText(shown: string): string {
  return shown.replace(/\\(?:\\|x([0-9a-f]{2})|u\{([0-9a-f]{1,6})\})/g, (m, x?: string, u?: string) => {
    if (x !== undefined) return String.fromCharCode(parseInt(x, 16));
    if (u !== undefined) return String.fromCodePoint(parseInt(u, 16));
    return '\\';
  });
}
