/**
 * The page talks to the query API the way any client does (docs/http.md),
 * with its session cookie instead of a bearer token and the session's CSRF
 * token on every request that is not a GET.
 */
export interface Field {
  readonly name: string;
  readonly type: string;
}
export interface Result {
  readonly fields: readonly Field[];
  readonly results: readonly (readonly unknown[])[];
  readonly isEnd: boolean;
}
export interface SessionInfo {
  readonly user: string;
  readonly reader: boolean;
  readonly csrf: string;
  readonly tokens: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrf = '';

async function answer<T>(res: Response): Promise<T> {
  const body = (await res.json().catch(() => null)) as { message?: string; error?: { message?: string } } | null;
  if (!res.ok) throw new ApiError(res.status, body?.error?.message ?? body?.message ?? `${res.status} ${res.statusText}`);
  return body as T;
}

async function post<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify(body),
  });
  return answer<T>(res);
}

export async function getJson<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { credentials: 'same-origin' }));
}

/** The current session, or null when a token login is needed: the page names it (web.ts), else the server is asked. */
export async function session(): Promise<SessionInfo | null> {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="mlmodel-session"]')?.content;
  if (meta) {
    const s = JSON.parse(meta) as SessionInfo;
    csrf = s.csrf;
    return s;
  }
  try {
    const s = await getJson<SessionInfo>('/ui/session');
    csrf = s.csrf;
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function login(token: string): Promise<SessionInfo> {
  const s = await post<SessionInfo>('/ui/login', { token });
  csrf = s.csrf;
  return s;
}

export async function logout(): Promise<void> {
  await post('/ui/logout', {});
  csrf = '';
}

/** One query, exactly as typed at the console. */
export function query(q: string): Promise<Result> {
  return post<Result>('/query', { q });
}
