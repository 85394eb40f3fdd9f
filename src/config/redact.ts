import { inspect } from 'node:util';

/**
 * A credential held by the configuration. It prints as `***` however it is
 * printed (String(), JSON.stringify, console.log/util.inspect, template
 * strings), so a config object or an error that carries one can be logged
 * without leaking it; only `reveal()` hands out the value, at the one place
 * that needs it (the client constructor).
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  get isEmpty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}

export const REDACTED = '***';

// scheme://user:password@host → scheme://user:***@host. The user part (an
// access key or a database user) stays: it names the identity without
// granting it, and it is what a person needs to tell two setups apart.
// The password runs to the last `@` of the word: a password with an unencoded
// `/`, `#`, `?` or `@` in it is still hidden whole (a path holding an `@`
// loses a little of itself too, which is the safe side).
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*):(\S*)@/gi;
// Query parameters that carry a credential: presigned URL signatures, tokens.
const SECRET_PARAMS =
  /([?&](?:x-amz-signature|x-amz-credential|x-amz-security-token|signature|sig|token|access_token|password|passwd|pwd|secret|secretkey|secret_key)=)[^&\s#"']*/gi;

/**
 * Hides secrets in free text: passwords in URLs, credential query parameters,
 * and every literal value in `secrets` (e.g. the configured secret keys, so a
 * driver message that echoes one bare is cleaned too).
 */
export function redact(text: string, secrets: Iterable<Secret | string> = []): string {
  return redactor(secrets)(text);
}

/**
 * `redact` with its secrets read once, for text redacted line after line (a
 * server's request log): the values are sorted once, and a line holding
 * none of them and neither a `://` nor an `=` (what both rules below need
 * to match) is returned without a regular expression run over it.
 */
export function redactor(secrets: Iterable<Secret | string> = []): (text: string) => string {
  // Known values first, longest first: a rule below could otherwise hide only the part of a
  // password before its space, and leave the rest no longer matching the value.
  // Very short values would blank out ordinary words; such a secret is
  // worthless anyway, and still hidden inside URLs by the rules below.
  const values = [...secrets]
    .map((s) => (typeof s === 'string' ? s : s.reveal()))
    .filter((v) => v.length >= 4)
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const value of values) if (out.includes(value)) out = out.split(value).join(REDACTED);
    if (!out.includes('://') && !out.includes('=')) return out;
    return out.replace(URL_PASSWORD, `$1:${REDACTED}@`).replace(SECRET_PARAMS, `$1${REDACTED}`);
  };
}

/**
 * A configuration value that is, or was meant to be, a URL with credentials
 * (MLMODEL_MINIO_URL, a connector, mongodb_url), as it may be printed, even
 * when it does not parse: a missing scheme, or `/`, `#`, `?`, `@`, `:` or
 * spaces left unencoded in the password. Everything before the last `@` (after
 * a mongodb://, mongodb+srv://, http:// or https:// scheme) is
 * user-info; of it only a plain user name before the first `:` is shown.
 */
export function redactUrl(text: string): string {
  // Only a scheme the settings take counts as one: in `AKIAKEY://pw@host`
  // or `registry://pw@host` the `//` may begin a password whose setting left
  // out its scheme, so everything before the first `:` is taken as the user.
  const m = /^((?:mongodb(?:\+srv)?|https?):\/\/)?([\s\S]*)$/i.exec(text)!;
  const scheme = m[1] ?? '';
  const rest = m[2]!;
  const at = rest.lastIndexOf('@');
  if (at < 0) return redact(text);
  const userinfo = rest.slice(0, at);
  const user = /^[^:@\s/]*(?=:)/.exec(userinfo);
  const shown = user ? `${user[0]}:${REDACTED}` : /^[^:@\s/]*$/.test(userinfo) ? userinfo : REDACTED;
  return `${scheme}${shown}@${rest.slice(at + 1).replace(SECRET_PARAMS, `$1${REDACTED}`)}`;
}

/**
 * A copy of an error whose message (and its causes' messages) are redacted,
 * for wrapping a driver error without keeping the original text around.
 */
export function redactError(err: unknown, secrets: Iterable<Secret | string> = []): Error {
  const list = [...secrets];
  const seen = new Set<unknown>();
  const copy = (e: unknown, depth: number): Error => {
    if (!(e instanceof Error)) return new Error(redact(String(e), list));
    const out = new Error(redact(e.message, list));
    out.name = e.name;
    const code = (e as { code?: unknown }).code;
    if (code !== undefined) (out as { code?: unknown }).code = code;
    seen.add(e);
    if (e.cause !== undefined && depth < 4 && !seen.has(e.cause)) {
      (out as { cause?: unknown }).cause = copy(e.cause, depth + 1);
    }
    return out;
  };
  return copy(err, 0);
}
