import { hasUnsafeChar } from '../../grammar/control-chars.js';

/**
 * The one rule for a user name, wherever one comes from (config, env, a
 * token's user, an admin's `user` in a request, `run(…, { user })`). A user
 * name is one path segment — it becomes part of serving names and object
 * keys — and is shown to other users, so it holds no blank, slash, control,
 * bidi or invisible character.
 */
export const USER_NAME_RULE = '1–128 characters, no spaces, slashes, control or invisible characters';

export function isUserName(text: string): boolean {
  return /^[^\s\p{Cc}/\\]{1,128}$/u.test(text) && !hasUnsafeChar(text);
}
