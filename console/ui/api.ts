/**
 * The page's one door to the API: JSON in and out, the bearer token in sessionStorage (gone
 * when the tab closes), and errors kept as the API words them (code, message, fields). An
 * auditor's calls go under `/api/audit/` (deployed, a function with the auditor's IAM policy
 * answers them); the pages name every endpoint as `/api/…`.
 */
export interface FieldIssue {
  field: string;
  message: string;
}

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  body: T & { error?: string; message?: string; fields?: FieldIssue[] };
}

const TOKEN = 'dsr-console-token';

export function token(): string | null {
  return sessionStorage.getItem(TOKEN);
}

export function setToken(value: string | null): void {
  if (value) sessionStorage.setItem(TOKEN, value);
  else sessionStorage.removeItem(TOKEN);
}

let auditor = false;

/** The signed-in role, which chooses the API's path. */
export function setRole(role: Me['role'] | null): void {
  auditor = role === 'auditor';
}

const routed = (path: string) => (auditor && path.startsWith('/api/') && path !== '/api/me' && path !== '/api/login' ? `/api/audit/${path.slice(5)}` : path);

export async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(routed(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: ApiAnswer<T>['body'];
  try {
    parsed = (text ? JSON.parse(text) : {}) as ApiAnswer<T>['body'];
  } catch {
    parsed = { error: 'bad-answer', message: `the server answered ${res.status} without JSON` } as ApiAnswer<T>['body'];
  }
  if (res.status === 401) setToken(null);
  return { status: res.status, body: parsed };
}

export interface Me {
  user: string;
  role: 'support' | 'auditor';
}

export const day = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : '—');
export const time = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').slice(0, 19) + ' UTC' : '—');
