import { fetchSecretString, SecretFetchError } from '../../infra/lambda/secret';

function fakeFetch(answers: Array<{ status: number; body: string } | Error>) {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const impl = (async (url: string, init: { headers: Record<string, string> }) => {
    calls.push({ url, headers: init.headers });
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    if (next instanceof Error) throw next;
    return new Response(next.body, { status: next.status });
  }) as unknown as typeof fetch;
  return { impl, calls };
}

describe('Function: fetchSecretString', () => {
  const arn = 'arn:aws:secretsmanager:ca-central-1:111111111111:secret:dsr-hmac-AbCdEf';

  it('waits for the extension to listen and be ready, then returns the secret string', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const { impl, calls } = fakeFetch([refused, { status: 400, body: 'not ready to serve traffic, please wait' }, { status: 200, body: JSON.stringify({ SecretString: 'key' }) }]);
    await expect(fetchSecretString(arn, { token: 't', port: 2773, delayMs: 1, fetchImpl: impl })).resolves.toBe('key');
    expect(calls).toHaveLength(3);
    expect(calls[0]).toEqual({ url: `http://localhost:2773/secretsmanager/get?secretId=${encodeURIComponent(arn)}`, headers: { 'X-Aws-Parameters-Secrets-Token': 't' } });
  });

  it('does not retry a refusal, and never echoes the answer', async () => {
    const { impl, calls } = fakeFetch([{ status: 403, body: 'AccessDeniedException: secret-value-would-not-be-here' }]);
    const attempt = fetchSecretString(arn, { token: 't', delayMs: 1, fetchImpl: impl });
    await expect(attempt).rejects.toThrow(new SecretFetchError('the extension answered 403'));
    expect(calls).toHaveLength(1);
  });

  it('gives up after the attempts, and refuses outside Lambda', async () => {
    const { impl } = fakeFetch(Array.from({ length: 3 }, () => ({ status: 400, body: 'not ready' })));
    await expect(fetchSecretString(arn, { token: 't', attempts: 3, delayMs: 1, fetchImpl: impl })).rejects.toThrow(/did not answer after 3 attempts/);
    await expect(fetchSecretString(arn, { token: '', fetchImpl: impl })).rejects.toThrow(/AWS_SESSION_TOKEN/);
  });

  it('refuses an empty or binary secret', async () => {
    const { impl } = fakeFetch([{ status: 200, body: JSON.stringify({ SecretBinary: 'AAAA' }) }]);
    await expect(fetchSecretString(arn, { token: 't', fetchImpl: impl })).rejects.toThrow(/no SecretString/);
  });
});
