/**
 * The console API deployed: an API Gateway HTTP API (payload format 2.0) Lambda handler over
 * the same router as the local server. API Gateway's JWT authorizer has already verified the
 * Cognito token; the role comes from its `cognito:groups` claim. The deployment's names come
 * from the environment the construct sets (DSR_LEDGER_TABLE, …), the data map from the bundled
 * dsr-config.json (DSR_CONFIG_FILE), as for the CLI. Two functions run this handler, one per role
 * (DSR_CONSOLE_SERVES, with that role's IAM policy); API Gateway routes `/api/audit/*` to the
 * auditor's and everything else under `/api/` to support's.
 */
import { deploymentFromEnv } from '../cli/context';
import { callerFromClaims } from './api/auth';
import { dispatch } from './api/router';

export interface HttpApiEvent {
  readonly rawPath: string;
  readonly queryStringParameters?: Record<string, string | undefined>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: { readonly http: { readonly method: string }; readonly authorizer?: { readonly jwt?: { readonly claims?: Record<string, unknown> } } };
}

export interface HttpApiResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

export async function handler(event: HttpApiEvent): Promise<HttpApiResult> {
  let body: unknown;
  try {
    const text = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
    body = text ? JSON.parse(text) : undefined;
  } catch {
    return { statusCode: 400, headers: HEADERS, body: JSON.stringify({ error: 'invalid-input', message: 'the body is not JSON', fields: [{ field: '(body)', message: 'not JSON' }] }) };
  }
  const query = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
  const out = await dispatch(
    { method: event.requestContext.http.method, path: event.rawPath, query, body, caller: callerFromClaims(event.requestContext.authorizer?.jwt?.claims) },
    // Codes and error names only: never a body, which may hold what support typed.
    { deployment: deploymentFromEnv(), serves: process.env.DSR_CONSOLE_SERVES === 'auditor' ? 'auditor' : 'support', onError: (e, r) => console.log(JSON.stringify({ method: r.method, path: r.path.replace(/\/requests\/[^/]+/, '/requests/{id}').replace(/\/holds\/[^/]+/, '/holds/{id}'), status: e.status, code: e.code, cause: (e.cause as Error | undefined)?.name })) },
  );
  return { statusCode: out.status, headers: HEADERS, body: JSON.stringify(out.body) };
}
