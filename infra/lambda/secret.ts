/**
 * Reads a Secrets Manager secret with one SigV4-signed GetSecretValue call (the service's JSON
 * 1.1 protocol), made once during init. Not the Parameters and Secrets Lambda Extension: CDK's
 * map of its layer ARNs lacks ca-west-1 and newer regions, so a deployment there fails. Not
 * `@aws-sdk/client-secrets-manager`: it is not a dependency of the project; the signer and the
 * partition table are the SDK's own (`@smithy/signature-v4`, `@aws-sdk/core`), already bundled
 * with every client. The function's role credentials come from the Lambda environment.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { partition } from '@aws-sdk/core/client';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, SourceData } from '@smithy/types';

export interface SecretFetchOptions {
  /** Default: the region in the secret's ARN, else AWS_REGION. */
  readonly region?: string;
  /**
   * Default: AWS_ENDPOINT_URL_SECRETS_MANAGER or AWS_ENDPOINT_URL (as the SDK reads them), else
   * https://secretsmanager.<region>.<the partition's DNS suffix>.
   */
  readonly endpoint?: string;
  /** Default: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as Lambda sets them. */
  readonly credentials?: AwsCredentialIdentity;
  /** Tries in all, for throttling, 5xx answers and network errors; 4 unless told. */
  readonly attempts?: number;
  readonly delayMs?: number;
  readonly fetchImpl?: typeof fetch;
}

export class SecretFetchError extends Error {
  override name = 'SecretFetchError';
}

/** Error types worth another try; any other refusal (AccessDenied, not found, KMS) is final. */
const RETRYABLE = new Set(['ThrottlingException', 'InternalServiceError', 'RequestTimeout', 'ServiceUnavailable']);

/** node:crypto behind the hash interface the signer takes (an HMAC when given a secret). */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const key = typeof this.secret === 'string' ? this.secret : ArrayBuffer.isView(this.secret) ? new Uint8Array(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength) : new Uint8Array(this.secret);
    return createHmac('sha256', key);
  }
}

function environmentCredentials(): AwsCredentialIdentity {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new SecretFetchError('no AWS credentials in the environment: the secret can only be read inside Lambda');
  return { accessKeyId, secretAccessKey, sessionToken: process.env.AWS_SESSION_TOKEN || undefined };
}

/** The region of an ARN (arn:partition:secretsmanager:region:account:secret:name), if it is one. */
function regionOf(secretId: string): string | undefined {
  const parts = secretId.split(':');
  return parts[0] === 'arn' && parts.length >= 7 && parts[3] ? parts[3] : undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function fetchSecretString(secretId: string, opts: SecretFetchOptions = {}): Promise<string> {
  const region = opts.region ?? regionOf(secretId) ?? process.env.AWS_REGION;
  if (!region) throw new SecretFetchError('no region: give the secret as an ARN or set AWS_REGION');
  const credentials = opts.credentials ?? environmentCredentials();
  const env = process.env;
  const url = new URL(opts.endpoint ?? env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL ?? `https://secretsmanager.${region}.${partition(region).dnsSuffix}`);
  const attempts = opts.attempts ?? 4;
  const delayMs = opts.delayMs ?? 200;
  const fetchImpl = opts.fetchImpl ?? fetch;
  const signer = new SignatureV4({ service: 'secretsmanager', region, credentials, sha256: NodeSha256 });
  const body = JSON.stringify({ SecretId: secretId });
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(delayMs * 2 ** (attempt - 2));
    // Signed per attempt: the signature carries the time.
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: '/',
      query: {},
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
      body,
    });
    // fetch sets Host itself, from the same URL.
    const headers = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name.toLowerCase() !== 'host'));
    let res: Response;
    try {
      res = await fetchImpl(new URL('/', url), { method: 'POST', headers, body });
    } catch (err) {
      last = (err as Error).name;
      continue;
    }
    const answer = (await res.json().catch(() => ({}))) as { SecretString?: unknown; __type?: unknown };
    if (res.ok) {
      if (typeof answer.SecretString !== 'string' || answer.SecretString === '') throw new SecretFetchError('the secret has no SecretString');
      return answer.SecretString;
    }
    // Only the error type is reported ("…#ResourceNotFoundException" names no value).
    const type = typeof answer.__type === 'string' ? answer.__type.split('#').pop()! : 'unknown error';
    last = `${res.status} ${type}`;
    if (res.status < 500 && res.status !== 429 && !RETRYABLE.has(type)) throw new SecretFetchError(`Secrets Manager refused GetSecretValue: ${last}`);
  }
  throw new SecretFetchError(`Secrets Manager did not answer GetSecretValue after ${attempts} attempts (${last})`);
}
