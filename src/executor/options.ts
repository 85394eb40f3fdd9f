import type { OptionAssignment } from '../../grammar/ast.js';
import { MlmodelError } from '../errors.js';

/**
 * A command's `key=value` options, checked against what the command takes:
 * an unknown key is an error that lists the known ones, and required keys
 * must be present.
 */
export function readOptions<K extends string>(
  command: string,
  given: readonly OptionAssignment[],
  spec: { required: readonly K[]; optional: readonly K[] },
): Partial<Record<K, string>> & Record<(typeof spec.required)[number], string> {
  const known = [...spec.required, ...spec.optional] as string[];
  const out: Record<string, string> = {};
  for (const { key, value } of given) {
    const k = key.toLowerCase();
    if (!known.includes(k)) {
      throw new MlmodelError('INVALID_ARGUMENT', `${command} has no option ${key}; its options are ${known.join(', ')}`, {
        option: key,
        valid: known,
      });
    }
    out[k] = value;
  }
  const missing = spec.required.filter((k) => out[k] === undefined || out[k] === '');
  if (missing.length > 0) {
    throw new MlmodelError('INVALID_ARGUMENT', `${command} needs ${missing.map((k) => `${k}=…`).join(' ')}`, { missing });
  }
  return out as Partial<Record<K, string>> & Record<K, string>;
}
