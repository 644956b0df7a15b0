/**
 * Reads a Secrets Manager secret through the AWS Parameters and Secrets Lambda Extension
 * (a layer serving http://localhost:2773), so the functions need no Secrets Manager client.
 * During init the extension may not listen yet, or answer 400 "not ready": both are retried.
 */
export interface SecretFetchOptions {
  readonly port?: number;
  /** The extension authenticates callers with the function's session token. */
  readonly token?: string;
  readonly attempts?: number;
  readonly delayMs?: number;
  readonly fetchImpl?: typeof fetch;
}

export class SecretFetchError extends Error {
  override name = 'SecretFetchError';
}

export async function fetchSecretString(secretId: string, opts: SecretFetchOptions = {}): Promise<string> {
  const port = opts.port ?? Number(process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? 2773);
  const token = opts.token ?? process.env.AWS_SESSION_TOKEN;
  const attempts = opts.attempts ?? 40;
  const delayMs = opts.delayMs ?? 100;
  const fetchImpl = opts.fetchImpl ?? fetch;
  if (!token) throw new SecretFetchError('no AWS_SESSION_TOKEN: the secret can only be read inside Lambda');
  const url = `http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await fetchImpl(url, { headers: { 'X-Aws-Parameters-Secrets-Token': token } });
      if (res.ok) {
        const body = (await res.json()) as { SecretString?: unknown };
        if (typeof body.SecretString !== 'string' || body.SecretString === '') throw new SecretFetchError('the secret has no SecretString');
        return body.SecretString;
      }
      // Only "not ready yet" is worth waiting for; the body names no secret value.
      const text = await res.text();
      if (res.status !== 400 || !/not ready/i.test(text)) throw new SecretFetchError(`the extension answered ${res.status}`);
      last = `${res.status} not ready`;
    } catch (err) {
      if (err instanceof SecretFetchError) throw err;
      last = (err as Error).name;
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
  }
  throw new SecretFetchError(`the Parameters and Secrets extension did not answer after ${attempts} attempts (${last})`);
}
