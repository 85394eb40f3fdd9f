import fc from 'fast-check';

/**
 * Text other users may have stored, built to attack whoever prints it: C0
 * and C1 controls, whole ESC sequences (CSI cursor moves and colours, OSC
 * window titles, OSC 52 clipboard writes and OSC 8 links with BEL or ST
 * terminators, DCS), their 8-bit forms, bidi controls, zero-width and other
 * invisible characters, lone surrogates, spreadsheet formulas, HTML and
 * Markdown, and backslashes that look like this project's own escapes.
 */
const char = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c));
const BIDI = [...'\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c'];
const INVISIBLE = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u2028', '\u2029', '\u{e0041}', '\u{e007f}', '\u180e'];
const plain = fc.string({ maxLength: 6 });

export const hostilePiece: fc.Arbitrary<string> = fc.oneof(
  char(0x00, 0x1f),
  char(0x7f, 0x9f),
  fc.constantFrom(...BIDI),
  fc.constantFrom(...INVISIBLE),
  char(0xd800, 0xdfff),
  // CSI: ESC [ or 0x9B, parameters, a final byte (colour, cursor, erase, modes).
  fc
    .tuple(fc.constantFrom('\x1b[', '\x9b'), fc.stringMatching(/^[0-9;?]{0,8}$/), fc.constantFrom('m', 'H', 'J', 'A', 'K', 'h', 'l', 'n', 't'))
    .map((p) => p.join('')),
  // OSC: titles, the clipboard (52), hyperlinks (8), ended by BEL or ST (ESC \ or 0x9C).
  fc
    .tuple(fc.constantFrom('\x1b]', '\x9d'), fc.constantFrom('0;', '2;', '52;c;', '8;;http://evil/', '1337;'), plain, fc.constantFrom('\x07', '\x1b\\', '\x9c'))
    .map((p) => p.join('')),
  // DCS (and its relatives SOS, PM, APC) up to ST.
  fc.tuple(fc.constantFrom('\x1bP', '\x90', '\x1bX', '\x1b^', '\x1b_'), plain, fc.constantFrom('\x1b\\', '\x9c')).map((p) => p.join('')),
  fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', '\r\n', '=HYPERLINK("http://evil/","click")', '@SUM(1+1)*cmd|\' /C calc\'!A0', '+1', '-2+3'),
  fc.constantFrom('<img src=x onerror=alert(1)>', '<script>', '"', "'", '&amp;', '&', '|', '[x](javascript:alert(1))', '![t](http://evil/p.png)', '`', '*', '_', '~'),
  fc.constantFrom('\\', '\\\\', '\\x1b', '\\u{202e}', 'x', 'u', '{', '}', '1b'),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
  plain,
);

export const hostileText: fc.Arbitrary<string> = fc.array(hostilePiece, { maxLength: 8 }).map((parts) => parts.join(''));

/** A query string literal holding exactly `s` (in the grammar `\` escapes the next character). */
export const queryLiteral = (s: string): string => `'${s.replace(/[\\']/g, '\\$&')}'`;
