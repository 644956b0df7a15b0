/**
 * What the console tests share: a seeded local engine (approval required, so the approval flow
 * can be driven) with the console server in front of it, signed-in callers of both roles, and a
 * record of every API answer, searched at the end for every identifier of the subjects.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SubjectEntry } from '../../examples/voip-operator/generator';
import { startConsoleServer, type ConsoleServer } from '../../console/server';
import { startSeededEngine, type SeededEngine } from '../support/engine';

export interface ConsoleEnv {
  readonly env: SeededEngine;
  readonly server: ConsoleServer;
  readonly tokens: Record<'support' | 'auditor', string>;
  /** Every answer body the tests received, in order. */
  readonly answers: string[];
  /** A call on the caller's own path: an auditor's `/api/x` goes to `/api/audit/x`, as the page sends it. */
  call(role: 'support' | 'auditor' | 'none', method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** A call on exactly this path, whoever the caller is. */
  callAt(role: 'support' | 'auditor' | 'none', method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startConsole(seed: number): Promise<ConsoleEnv> {
  // The engine's clock at the real time: the page, like `dsr start`, verifies "now".
  const env = await startSeededEngine({ seed, now: new Date().toISOString(), approvalRequired: true });
  const server = await startConsoleServer({ dataDir: env.t.dataDir });
  const answers: string[] = [];
  const raw = async (method: string, path: string, body: unknown, token?: string) => {
    const res = await fetch(new URL(path, server.url), {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    answers.push(text);
    return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
  };
  const tokens = {} as Record<'support' | 'auditor', string>;
  for (const u of server.users.users) tokens[u.role] = (await raw('POST', '/api/login', { user: u.user, password: u.password })).body.token as string;
  return {
    env,
    server,
    tokens,
    answers,
    call: (role, method, path, body) => raw(method, role === 'auditor' && path !== '/api/me' ? path.replace(/^\/api\//, '/api/audit/') : path, body, role === 'none' ? undefined : tokens[role]),
    callAt: (role, method, path, body) => raw(method, path, body, role === 'none' ? undefined : tokens[role]),
    async close() {
      await server.close();
      await env.close();
    },
  };
}

/**
 * Every way the subject could show: its ids, email, IPs, SIP username, device ids, its name
 * from the account record, and each phone number in E.164 and the usual national forms.
 */
export async function identifiersOf(env: SeededEngine, s: SubjectEntry): Promise<string[]> {
  const account = await env.ddb.send(new GetItemCommand({ TableName: 'voip-accounts', Key: { accountId: { S: s.subjectId } } }));
  const item = account.Item ? unmarshall(account.Item) : {};
  const names = ['fullName', 'firstName', 'lastName'].map((k) => item[k]).filter((v): v is string => typeof v === 'string' && v.length >= 3);
  const phones = s.identifiers.phone.flatMap((p) => {
    const d = p.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, '');
    return d.length === 10 ? [p, d, `(${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6)}`, `${d.slice(0, 3)}-${d.slice(3, 6)}-${d.slice(6)}`, `${d.slice(0, 3)}.${d.slice(3, 6)}.${d.slice(6)}`] : [p];
  });
  const ids = Object.values(s.identifiers).flat();
  return [...new Set([...ids, ...names, ...phones])].filter((v) => v.length >= 4);
}

/** The identifiers that occur in `text` as whole tokens (a short id may occur inside a hash). */
export function found(text: string, values: readonly string[]): string[] {
  const esc = (v: string) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return values.filter((v) => new RegExp(`(^|[^0-9A-Za-z])${esc(v)}($|[^0-9A-Za-z])`, 'i').test(text));
}

export const verification = (ref: string) => ({ method: 'id-document', reference: ref, verifiedBy: 'agent-7' });

/** Polls the request's detail until `done` says so (or the time is up). */
export async function until(c: ConsoleEnv, requestId: string, done: (d: Record<string, unknown>) => boolean, timeoutMs = 120_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await c.call('auditor', 'GET', `/api/requests/${requestId}`);
    if (d.status === 200 && done(d.body)) return d.body;
    if (Date.now() > deadline) throw new Error(`request ${requestId} did not reach the state in time: ${JSON.stringify(d.body).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function plain(subjects: readonly SubjectEntry[], taken: string[]): SubjectEntry {
  const s = subjects.find((x) => !x.flags.fraudInvestigation && !x.flags.legalHeldMedia && !x.flags.specialCharacters && !taken.includes(x.subjectId));
  if (!s) throw new Error('no subject fits');
  taken.push(s.subjectId);
  return s;
}
