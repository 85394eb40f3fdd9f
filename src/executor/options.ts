import type { OptionAssignment } from '../../grammar/ast.js';
import { readOptionValue, type CommandSyntax, type OptionValues } from '../../grammar/command-syntax.js';
import { readModelRef } from '../../grammar/visitor.js';
import { MlmodelError } from '../errors.js';

/**
 * A command's `key=value` options as typed values, read by their declared
 * types — the same reading that checks them at parse time, so a query that
 * parsed never fails here. An AST built by hand (the library's `execute`)
 * gets the same checks as an error: an unknown key lists the known ones, a
 * bad value names the valid ones, a required key must be present.
 */
export function optionValues<S extends CommandSyntax>(syntax: S, given: readonly OptionAssignment[] | undefined): OptionValues<S> {
  const declared = syntax.options ?? {};
  const keys = Object.keys(declared);
  const command = `${syntax.prefix ?? 'mlmodel'} ${syntax.keywords[0]}`;
  const out: Record<string, unknown> = {};
  for (const { key, value } of given ?? []) {
    const k = key.toLowerCase();
    const spec = Object.hasOwn(declared, k) ? declared[k] : undefined;
    if (spec === undefined) {
      throw new MlmodelError('INVALID_ARGUMENT', `${command} has no option ${key}; its options are ${keys.join(', ')}`, { option: key, valid: keys });
    }
    if (Object.hasOwn(out, k)) throw new MlmodelError('INVALID_ARGUMENT', `option ${key} is given twice`, { option: key });
    const read = readOptionValue(k, spec, value, readModelRef);
    if ('problem' in read) throw new MlmodelError('INVALID_ARGUMENT', read.problem, { option: key, valid: [...read.valid] });
    out[k] = read.value;
  }
  const missing = keys.filter((k) => declared[k]!.required && out[k] === undefined);
  if (missing.length > 0) {
    throw new MlmodelError('INVALID_ARGUMENT', `${command} needs ${missing.map((k) => `${k}=…`).join(' ')}`, { missing });
  }
  return out as OptionValues<S>;
}
