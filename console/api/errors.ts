/**
 * The console API's errors: every answer that is not a success is JSON with a fixed `error`
 * code, a message a person reads, and, for bad input, the fields at fault. A message never
 * carries a value the caller sent (a subject id is personal), only field names.
 */
import { RequestConflictError } from '../../functions/core/ledger';
import { DsrError } from '../../functions/core/errors';
import { CliError, EXIT } from '../../cli/context';
import { FieldError } from '../../cli/operations/start';

export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: readonly FieldIssue[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}

export const forbidden = (what: string) => new ApiError(403, 'forbidden', `your role may not ${what}`);
export const unauthenticated = () => new ApiError(401, 'unauthenticated', 'sign in first');
export const notFound = (what: string) => new ApiError(404, 'not-found', `${what} not found`);

/** zod issues as field issues (paths joined by dots; messages only, never the values). */
export function invalidInput(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>, root = '(body)'): ApiError {
  const fields = issues.map((i) => ({ field: i.path.map(String).join('.') || root, message: i.message }));
  return new ApiError(400, 'invalid-input', fields.map((f) => `${f.field}: ${f.message}`).join('; '), fields);
}

/** What the shared operations throw, as HTTP answers; anything unknown is a 500 without detail. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof FieldError) return new ApiError(400, 'invalid-input', err.message, [{ field: err.field, message: err.message }], { cause: err });
  if (err instanceof RequestConflictError) return new ApiError(409, 'conflict', err.message, [], { cause: err });
  if (err instanceof CliError) {
    if (/^no such request /.test(err.message)) return new ApiError(404, 'not-found', err.message, [], { cause: err });
    if (err.exitCode === EXIT.environment) return new ApiError(503, 'unavailable', err.message, [], { cause: err });
    // The request is not in a state that allows it (already approved, not an erasure, …).
    return new ApiError(409, 'conflict', err.message, [], { cause: err });
  }
  if (err instanceof DsrError) return new ApiError(400, 'invalid-input', err.message, [], { cause: err });
  const name = (err as { name?: string }).name;
  if (name === 'AccessDeniedException' || name === 'AccessDenied') return new ApiError(403, 'forbidden', 'the deployment\'s policy for your role denies this', [], { cause: err });
  return new ApiError(500, 'internal', 'the console could not answer; see its log', [], { cause: err });
}
