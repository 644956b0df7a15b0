/**
 * One router for both ways the API is served: Node's http server locally (console/server.ts)
 * and an API Gateway HTTP API Lambda handler deployed (console/lambda.ts). It matches the
 * route, refuses a role the route does not allow (403, before any AWS call), and runs the
 * route as that role: locally with that role's credentials, so the local engine enforces the
 * role's IAM policy on every call as well; and `readable()` never reads a request item for an
 * auditor.
 *
 * Each role has its own path, so that deployed each role's calls reach a function holding that
 * role's IAM policy (infra/console.ts): `/api/…` serves the `support` group, `/api/audit/…` the
 * `auditor` group (the same routes under it). The caller's group decides: a caller on the other
 * role's path is refused (403) whatever the route, except `/api/me`, which tells the page its
 * role and so its path.
 */
import { cliPrincipal, clientsFor, type Deployment } from '../../cli/context';
import type { Caller, Role } from './auth';
import { ApiError, forbidden, toApiError, unauthenticated } from './errors';
import { ROUTES } from './routes';

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly body: unknown;
  readonly caller: Caller | undefined;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface RouterOptions {
  readonly deployment: Deployment;
  /** Told of every failure with its cause (a log line: codes and names, never bodies). */
  readonly onError?: (err: ApiError, req: ApiRequest) => void;
  /** Deployed: the one role this function serves (its IAM policy's); a path of the other role is not its own (404). Locally: both. */
  readonly serves?: Role;
}

export const AUDIT_PREFIX = '/api/audit';

/** The role a path serves and the route path under it (`/api/audit/requests` → auditor, `/api/requests`). */
export function servedBy(path: string): { role: Role; path: string } {
  return path === AUDIT_PREFIX || path.startsWith(`${AUDIT_PREFIX}/`) ? { role: 'auditor', path: `/api${path.slice(AUDIT_PREFIX.length)}` } : { role: 'support', path };
}

const pathOf = (role: Role) => (role === 'auditor' ? `${AUDIT_PREFIX}/…` : '/api/…');

export async function dispatch(req: ApiRequest, opts: RouterOptions): Promise<ApiResponse> {
  try {
    const served = servedBy(req.path);
    if (opts.serves && served.role !== opts.serves) throw new ApiError(404, 'not-found', 'no such endpoint');
    const matches = ROUTES.filter((r) => r.path.test(served.path));
    if (matches.length === 0) throw new ApiError(404, 'not-found', 'no such endpoint');
    const route = matches.find((r) => r.method === req.method);
    if (!route) throw new ApiError(405, 'method-not-allowed', `use ${matches.map((r) => r.method).join(' or ')}`);
    if (!req.caller) throw unauthenticated();
    const caller = req.caller;
    if (!route.roles.includes(caller.role)) throw forbidden(route.action);
    if (caller.role !== served.role && served.path !== '/api/me') throw new ApiError(403, 'forbidden', `this path serves the ${served.role} role; as ${caller.role} use ${pathOf(caller.role)}`);
    const params = route.path.exec(served.path)!.slice(1);
    return await cliPrincipal.run(caller.role, async () => {
      const clients = clientsFor(opts.deployment);
      try {
        const out = await route.run({ clients, caller, params, query: req.query, body: req.body });
        return { status: out.status ?? 200, body: out.body };
      } finally {
        clients.close();
      }
    });
  } catch (err) {
    const apiError = toApiError(err);
    opts.onError?.(apiError, req);
    return { status: apiError.status, body: { error: apiError.code, message: apiError.message, fields: apiError.fields } };
  }
}
