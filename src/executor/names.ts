import { MlmodelError } from '../errors.js';

/**
 * The names a model may have: letters of any script, digits, `_`, `.` and
 * `-`, starting with a letter, digit or `_`, at most 128 characters. Names
 * become serving names and path segments on a TF Serving base, so nothing
 * that could be a separator, a traversal or a control character gets in.
 */
const MODEL_NAME = /^[\p{L}\p{N}_][\p{L}\p{N}\p{M}_.-]{0,127}$/u;

export function checkModelName(name: string, what = 'model name'): string {
  const normal = name.normalize('NFC');
  if (!MODEL_NAME.test(normal) || normal.includes('..')) {
    throw new MlmodelError(
      'INVALID_ARGUMENT',
      `${JSON.stringify(name)} is not a valid ${what}: use letters, digits, '_', '.' and '-' (no '..'), starting with a letter, digit or '_', at most 128 characters`,
      { name },
    );
  }
  return normal;
}
