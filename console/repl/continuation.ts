import { scanScript } from '../../grammar/index.js';

/**
 * When Enter does not yet run the entry: its last statement is unfinished
 * (a trailing `\`, an open quote or parenthesis) by the one splitter that
 * `-f`, standard input and the HTTP API use too (grammar/script.ts), so an
 * entry means at the prompt what it means in a file.
 */
export function needsContinuation(text: string): boolean {
  return scanScript(text).open;
}
