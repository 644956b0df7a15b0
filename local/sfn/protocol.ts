import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { MAX_PAYLOAD_BYTES } from './limits';

export { MAX_PAYLOAD_BYTES };

/**
 * An error the JSON protocol reports to the client. `code` goes into `__type`, which
 * @aws-sdk/core's loadJsonRpcErrorCode reads first (it keeps the part after a `#`), and
 * botocore does the same, so both map it onto their typed exception classes.
 */
export class SfnError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export const TARGET_PREFIX = 'AWSStepFunctions.';
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new SfnError('ValidationException', `Request body exceeds ${MAX_BODY_BYTES} bytes`, 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function parseJsonBody(body: string): unknown {
  if (body.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed;
  } catch {
    throw new SfnError('SerializationException', 'Request body is not a JSON object');
  }
}

export function send(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(body);
}

export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof SfnError) {
    send(res, err.status, { __type: err.code, message: err.message });
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  send(res, 500, { __type: 'InternalFailure', message });
}

/** AWS sends timestamps as epoch seconds with a millisecond fraction. */
export const epochSeconds = (ms: number): number => ms / 1000;

// Step Functions' documented rule: 1-80 chars, no whitespace, brackets, wildcards,
// the listed punctuation, or control characters.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_NAME_CHARS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/u;

export function validateName(name: string): void {
  const length = [...name].length;
  if (length < 1 || length > 80 || FORBIDDEN_NAME_CHARS.test(name)) {
    throw new SfnError('InvalidName', `Invalid Name: '${name}'`);
  }
}

export function validateInput(input: string): void {
  if (Buffer.byteLength(input, 'utf8') > MAX_PAYLOAD_BYTES) {
    throw new SfnError('InvalidExecutionInput', `Invalid Execution Input: input exceeds the maximum size of ${MAX_PAYLOAD_BYTES} bytes`);
  }
  try {
    JSON.parse(input);
  } catch (err) {
    throw new SfnError('InvalidExecutionInput', `Invalid Execution Input: ${(err as Error).message}`);
  }
}

/**
 * Page tokens carry the request they belong to, so a token replayed with other arguments
 * fails the way AWS documents ("keep all other arguments unchanged", else InvalidToken).
 */
export function encodeToken(scope: string, position: number): string {
  return Buffer.from(JSON.stringify({ s: scope, p: position })).toString('base64url');
}

export function decodeToken(token: string, scope: string): number {
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { s?: unknown; p?: unknown };
    if (decoded.s === scope && typeof decoded.p === 'number') return decoded.p;
  } catch {
    // fall through to the AWS error below
  }
  throw new SfnError('InvalidToken', `Invalid Token: '${token}'`);
}

/** maxResults: 0 means the default (100); AWS caps it at 1000. */
export function pageSize(maxResults: number | undefined): number {
  if (maxResults === undefined || maxResults === 0) return 100;
  if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > 1000) {
    throw new SfnError('ValidationException', `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value between 0 and 1000`);
  }
  return maxResults;
}

/**
 * One page of a list in creation order, newest first: the token holds the last one's creation
 * sequence, so records created between pages cause no repeats. `next` is `{ nextToken }` when
 * more follow, else empty.
 */
export function seqPage<T extends { seq: number }>(listed: readonly T[], scope: string, maxResults: number | undefined, nextToken: string | undefined): { page: T[]; next: { nextToken?: string } } {
  const size = pageSize(maxResults);
  const before = nextToken !== undefined ? decodeToken(nextToken, scope) : Infinity;
  const matching = listed.filter((r) => r.seq < before);
  const page = matching.slice(0, size);
  return { page, next: matching.length > size ? { nextToken: encodeToken(scope, page[page.length - 1].seq) } : {} };
}

export interface ArnParts {
  region: string;
  account: string;
  resourceType: string;
  resource: string[];
}

export function parseStatesArn(arn: string): ArnParts {
  const parts = arn.split(':');
  if (parts.length < 7 || parts[0] !== 'arn' || parts[2] !== 'states') throw new SfnError('InvalidArn', `Invalid Arn: '${arn}'`);
  return { region: parts[3], account: parts[4], resourceType: parts[5], resource: parts.slice(6) };
}

/** `arn`, when it is a Step Functions ARN of this resource type; else AWS's InvalidArn. */
export function checkedArn(arn: string, resourceType: 'execution' | 'stateMachine' | 'mapRun'): string {
  if (parseStatesArn(arn).resourceType !== resourceType) throw new SfnError('InvalidArn', `Invalid Arn: '${arn}'`);
  return arn;
}
