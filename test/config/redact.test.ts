import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/config/redact.js';

describe('redactUrl', () => {
  it('never shows a password, whatever it starts with, with or without a scheme', () => {
    // Passwords without '@' (after the last '@' is the host, shown by design), at least 4 characters.
    const password = fc.string({ minLength: 4, maxLength: 24 }).filter((p) => !p.includes('@') && p.trim() === p && p.length >= 4);
    const scheme = fc.constantFrom('', 'mongodb://', 'mongodb+srv://', 'http://', 'https://');
    fc.assert(
      fc.property(scheme, fc.constantFrom('//', '', '/', '://', 'x//', '//a:b', 'q:'), password, (s, lead, pw) => {
        const secret = lead + pw;
        const shown = redactUrl(`${s}registry:${secret}@127.0.0.1:9/mlmodel`);
        expect(shown, shown).not.toContain(pw);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps what helps: the scheme, a plain user name and the host', () => {
    expect(redactUrl('mongodb://u:p4ss@h/db')).toBe('mongodb://u:***@h/db');
    expect(redactUrl("registry://`'um0VM7NJ@h/db")).toBe('registry:***@h/db');
    expect(redactUrl('https://ak:sk@h:9000/b')).toBe('https://ak:***@h:9000/b');
    expect(redactUrl('mongodb://u@h/db')).toBe('mongodb://u@h/db');
    // No scheme, and a password that starts with // or holds a ':' of its own.
    expect(redactUrl('AKIAKEY://[cfy/O:#ow/SO@o<n?_r_v@127.0.0.1:9/bucket')).toBe('AKIAKEY:***@127.0.0.1:9/bucket');
  });
});
