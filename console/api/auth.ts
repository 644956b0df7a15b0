/**
 * Who calls the console API and in which role. Two roles, as the IAM policies of
 * infra/policies.ts: `support` (start, approve, holds, sweeps) and `auditor` (read-only).
 * Locally: two users in `DIR/console-users.json` (created on first run, mode 0600) sign in with
 * a password and get a token signed with the file's secret (HMAC-SHA256, 8 hours). Deployed:
 * API Gateway's JWT authorizer has checked the Cognito token; its `cognito:groups` claim names
 * the role.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const ROLES = ['support', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  readonly user: string;
  readonly role: Role;
}

export interface LocalUser extends Caller {
  readonly password: string;
}

export interface LocalUsers {
  readonly secret: string;
  readonly users: readonly LocalUser[];
}

const TOKEN_TTL_MS = 8 * 3600_000;

export function usersFile(dataDir: string): string {
  return path.join(dataDir, 'console-users.json');
}

/** The local users of a data directory, made once (one per role) with random passwords. */
export function loadOrCreateUsers(dataDir: string): LocalUsers {
  const file = usersFile(dataDir);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as LocalUsers;
  const users: LocalUsers = {
    secret: randomBytes(32).toString('hex'),
    users: [
      { user: 'support-1', role: 'support', password: randomBytes(9).toString('base64url') },
      { user: 'auditor-1', role: 'auditor', password: randomBytes(9).toString('base64url') },
    ],
  };
  fs.writeFileSync(file, JSON.stringify(users, null, 2), { mode: 0o600 });
  return users;
}

const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest('base64url');

export function signToken(secret: string, caller: Caller, now = Date.now()): string {
  const payload = Buffer.from(JSON.stringify({ user: caller.user, role: caller.role, exp: now + TOKEN_TTL_MS })).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
}

/** The caller a token names, if its signature holds and it has not expired. */
export function verifyToken(secret: string, token: string, now = Date.now()): Caller | undefined {
  const [payload, mac] = token.split('.');
  if (!payload || !mac) return undefined;
  const expected = Buffer.from(sign(secret, payload));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { user?: unknown; role?: unknown; exp?: unknown };
  if (typeof body.exp !== 'number' || body.exp < now || typeof body.user !== 'string' || !isRole(body.role)) return undefined;
  return { user: body.user, role: body.role };
}

export function checkPassword(users: LocalUsers, user: string, password: string): Caller | undefined {
  const found = users.users.find((u) => u.user === user);
  if (!found) return undefined;
  const a = Buffer.from(found.password);
  const b = Buffer.from(password);
  return a.length === b.length && timingSafeEqual(a, b) ? { user: found.user, role: found.role } : undefined;
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/**
 * The role of a Cognito user from the verified claims: `cognito:groups` arrives from API
 * Gateway as an array or as its string form `[support auditor]`. Support wins when a user is
 * in both groups; in neither, there is no caller (403).
 */
export function callerFromClaims(claims: Record<string, unknown> | undefined): Caller | undefined {
  if (!claims) return undefined;
  const raw = claims['cognito:groups'];
  const groups = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.replace(/^\[|\]$/g, '').split(/[\s,]+/).filter(Boolean) : [];
  const role = ROLES.find((r) => groups.includes(r));
  const user = String(claims['cognito:username'] ?? claims.username ?? claims.sub ?? '');
  return role && user ? { user, role } : undefined;
}
