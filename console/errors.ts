import { ParseError } from '../grammar/index.js';
import { redact } from '../src/config/redact.js';
import { isMlmodelError } from '../src/errors.js';

/** One message for a person, secrets removed: a parse error with its caret, an engine error with its code. */
export function describeError(e: unknown, secrets: Parameters<typeof redact>[1] = []): string {
  if (e instanceof ParseError) return e.render();
  if (isMlmodelError(e)) {
    if (e.code === 'CANCELLED') return 'cancelled';
    return `error: ${redact(e.message, secrets)} (${e.code})`;
  }
  const message = e instanceof Error ? e.message : String(e);
  return `internal error: ${redact(message, secrets)}`;
}
