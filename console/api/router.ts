/**
 * One router for both ways the API is served: Node's http server locally (console/server.ts)
 * and an API Gateway HTTP API Lambda handler deployed (console/lambda.ts). It matches the
 * route, refuses a role the route does not allow (403, before any AWS call), and runs the
 * route as that role: locally with that role's credentials, so the local engine enforces the
 * role's IAM policy on every call as well; and `readable()` never reads a request item for an
 * auditor.
 */
import { cliPrincipal, clientsFor, type Deployment } from '../../cli/context';
import type { Caller } from './auth';
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
}

export async function dispatch(req: ApiRequest, opts: RouterOptions): Promise<ApiResponse> {
  try {
    const matches = ROUTES.filter((r) => r.path.test(req.path));
    if (matches.length === 0) throw new ApiError(404, 'not-found', 'no such endpoint');
    const route = matches.find((r) => r.method === req.method);
    if (!route) throw new ApiError(405, 'method-not-allowed', `use ${matches.map((r) => r.method).join(' or ')}`);
    if (!req.caller) throw unauthenticated();
    const caller = req.caller;
    if (!route.roles.includes(caller.role)) throw forbidden(route.action);
    const params = route.path.exec(req.path)!.slice(1);
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
