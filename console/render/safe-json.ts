import { UNSAFE_CHAR_SOURCE } from '../../grammar/control-chars.js';

// JSON.stringify escapes C0 controls and lone surrogates but leaves DEL, C1
// controls (0x9B is a CSI on its own), bidi and other format characters raw.
// They only ever occur inside strings, where \uXXXX means the same character.
// C0 is left alone: inside strings it is escaped already, outside it is the indentation's line breaks.
const JSON_UNSAFE = new RegExp(`(?![\\u0000-\\u001f])${UNSAFE_CHAR_SOURCE}`, 'gu');

/** JSON.stringify whose text holds no character that acts on a terminal; it parses to the same value. */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(JSON_UNSAFE, (ch) =>
    Array.from({ length: ch.length }, (_, k) => `\\u${ch.charCodeAt(k).toString(16).padStart(4, '0')}`).join(''),
  );
}
