/**
 * Characters that must never reach a terminal (or a file a person will
 * `cat`) as they are, because they act instead of showing: C0 and C1
 * controls (ESC starts CSI/OSC/DCS sequences: cursor moves, colours, window
 * titles, the clipboard through OSC 52; 0x9B and 0x9D are CSI and OSC on
 * their own), DEL, format characters (the bidi embeddings, overrides and
 * isolates U+202A–202E and U+2066–2069 of "Trojan Source", LRM/RLM/ALM,
 * zero-width space, word joiner, BOM, soft hyphen, tag characters), the line
 * and paragraph separators, and lone surrogates (a UTF-8 encoder turns each
 * into U+FFFD, so two different strings would print the same).
 *
 * Zero-width joiner and non-joiner stay: they are part of emoji sequences and
 * of Persian and Indic spelling, and they move nothing.
 *
 * Pure: the grammar (parse-error rendering), the engine (models.config) and
 * the console (every renderer) share this one definition.
 */
export const UNSAFE_CHAR_SOURCE = '(?![\\u200c\\u200d])[\\p{Cc}\\p{Cf}\\p{Cs}\\p{Zl}\\p{Zp}]';

const UNSAFE_ONE = new RegExp(`^${UNSAFE_CHAR_SOURCE}$`, 'u');
const UNSAFE_ANY = new RegExp(UNSAFE_CHAR_SOURCE, 'u');

/** Whether one character (one code point, or one lone surrogate) is unsafe to print. */
export function isUnsafeChar(ch: string): boolean {
  return UNSAFE_ONE.test(ch);
}

/** Whether the text holds any character that is unsafe to print. */
export function hasUnsafeChar(text: string): boolean {
  return UNSAFE_ANY.test(text);
}
