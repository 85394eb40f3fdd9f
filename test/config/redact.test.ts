import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redact, redactor, redactUrl } from '../../src/config/redact.js';

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

describe('redactor', () => {
  it('hides every secret value, URL password and credential parameter in any line, and leaves a line with none of them as it was', () => {
    // Marked with a character of their own: a secret that was a piece of the URL around it would hide part of the URL's scheme, not what this checks.
    const secret = fc.string({ minLength: 3, maxLength: 16 }).filter((s) => s.trim() === s && !s.includes('*') && !s.includes('§')).map((s) => `§${s}`);
    const word = fc.string({ maxLength: 12 });
    fc.assert(
      fc.property(fc.array(secret, { minLength: 0, maxLength: 3 }), word, word, fc.constantFrom('plain', 'secret', 'url', 'param'), (secrets, before, after, kind) => {
        const hide = redactor(secrets);
        const pw = 'Pw-' + before.replace(/[\s@/?#&=]/g, '') + 'x';
        const middle = kind === 'secret' && secrets.length > 0 ? secrets[0]! : kind === 'url' ? `mongodb://u:${pw}@h/db` : kind === 'param' ? `/b/o?token=${pw}&x=1` : '';
        const line = `${before} ${middle} ${after}`;
        const shown = hide(line);
        // One redactor per secret list says what redact says, line after line.
        expect(shown).toBe(redact(line, secrets));
        expect(hide(line)).toBe(shown);
        for (const s of secrets) expect(shown).not.toContain(s);
        if (kind === 'url' || kind === 'param') expect(shown).not.toContain(pw);
        const untouched = secrets.every((s) => !line.includes(s)) && !line.includes('://') && !line.includes('=');
        if (untouched) expect(shown).toBe(line);
      }),
      { numRuns: 2000 },
    );
  });
});
