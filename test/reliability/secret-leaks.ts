import fc from 'fast-check';

/** Passwords from the whole printable ASCII set, with the characters URLs trip over (/ # ? @ : % space) weighted up. */
export const password = fc
  .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...'/#?@:% ') }, { weight: 7, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) }), { minLength: 8, maxLength: 24 })
  .map((a) => a.join(''))
  // A secret needs some letters or digits to be a secret at all (and a distinctive window).
  .filter((p) => /[A-Za-z0-9].*[A-Za-z0-9].*[A-Za-z0-9]/.test(p));

/** A password of the same shape: what a message says about it is the same, none of its letters or digits. */
export const shape = (p: string) => p.replace(/[A-Za-z0-9]/g, 'Z');

/**
 * Windows of the secret (and of its percent-encoded form) that `out` holds
 * and `baseline` (the same output for `shape(secret)`) does not.
 */
export function leaks(out: string, secret: string, baseline: string): string[] {
  const found: string[] = [];
  for (const s of new Set([secret, encodeURIComponent(secret)])) {
    for (let i = 0; i + 4 <= s.length; i++) {
      const w = s.slice(i, i + 4);
      if (out.includes(w) && !baseline.includes(w)) found.push(w);
    }
  }
  return found;
}

