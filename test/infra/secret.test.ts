/**
 * fetchSecretString against a local HTTP server that stands in for Secrets Manager: no emulator
 * of it can be installed here, and the call must not reach AWS. The server checks what AWS
 * checks: the JSON 1.1 operation, and the SigV4 signature, recomputed from what arrived with the
 * SDK's own signer and the same credentials.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { fetchSecretString, SecretFetchError } from '../../infra/lambda/secret';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret', sessionToken: 'session-token' };
const arn = 'arn:aws:secretsmanager:ca-west-1:111111111111:secret:dsr-hmac-AbCdEf';

/** The verifier's own hash (node:crypto), not the one under test. */
class Sha256 {
  private h;
  private readonly key?: Buffer;
  constructor(key?: SourceData) {
    this.key = key === undefined ? undefined : typeof key === 'string' ? Buffer.from(key) : ArrayBuffer.isView(key) ? Buffer.from(key.buffer, key.byteOffset, key.byteLength) : Buffer.from(key);
    this.h = this.fresh();
  }
  private fresh() {
    return this.key === undefined ? createHash('sha256') : createHmac('sha256', this.key);
  }
  update(d: Uint8Array) {
    this.h.update(d);
  }
  async digest() {
    return new Uint8Array(this.h.digest());
  }
  reset() {
    this.h = this.fresh();
  }
}

interface Seen {
  target?: string;
  contentType?: string;
  body: unknown;
  signatureValid: boolean;
  scope?: string;
  token?: string;
}

/** Recomputes the signature of a received request over the headers it says it signed. */
async function signatureValid(req: IncomingMessage, body: string, region: string): Promise<boolean> {
  const auth = String(req.headers.authorization ?? '');
  const signedNames = /SignedHeaders=([^,]+)/.exec(auth)?.[1].split(';') ?? [];
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const date = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  // The payload hash is recomputed from the body that arrived, never taken from its header.
  const declaredHash = req.headers['x-amz-content-sha256'];
  if (declaredHash !== undefined && declaredHash !== createHash('sha256').update(body).digest('hex')) return false;
  const headers = Object.fromEntries(signedNames.filter((n) => !['x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'authorization'].includes(n)).map((n) => [n, String(req.headers[n])]));
  const signer = new SignatureV4({ service: 'secretsmanager', region, credentials, sha256: Sha256 });
  const resigned = await signer.sign({ method: req.method!, protocol: 'http:', hostname: '127.0.0.1', path: req.url!, query: {}, headers, body }, { signingDate: date });
  return signedNames.includes('host') && signedNames.includes('x-amz-target') && resigned.headers.authorization === auth;
}

type Answer = { status: number; body: unknown } | 'hang-up';

function fakeSecretsManager(answers: Answer[], region = 'ca-west-1') {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', async () => {
      seen.push({
        target: req.headers['x-amz-target'] as string,
        contentType: req.headers['content-type'],
        body: JSON.parse(raw),
        signatureValid: await signatureValid(req, raw, region),
        scope: /Credential=[^/]+\/\d{8}\/([^,]+),/.exec(String(req.headers.authorization))?.[1],
        token: req.headers['x-amz-security-token'] as string,
      });
      const next = answers.shift() ?? { status: 500, body: { __type: 'InternalServiceError' } };
      if (next === 'hang-up') return req.socket.destroy();
      res.writeHead(next.status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(next.body));
    });
  });
  return {
    seen,
    start: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('Function: fetchSecretString (a signed GetSecretValue)', () => {
  it('sends one signed JSON 1.1 GetSecretValue for the ARN, scoped to the ARN\'s region, and returns the string', async () => {
    const sm = fakeSecretsManager([{ status: 200, body: { ARN: arn, Name: 'dsr-hmac', SecretString: 'k'.repeat(64), VersionId: 'v1' } }]);
    const endpoint = await sm.start();
    try {
      await expect(fetchSecretString(arn, { endpoint, credentials })).resolves.toBe('k'.repeat(64));
    } finally {
      await sm.stop();
    }
    expect(sm.seen).toEqual([{
      target: 'secretsmanager.GetSecretValue',
      contentType: 'application/x-amz-json-1.1',
      body: { SecretId: arn },
      signatureValid: true,
      scope: 'ca-west-1/secretsmanager/aws4_request',
      token: 'session-token',
    }]);
  });

  it('requests side by side are each signed on their own', async () => {
    const sm = fakeSecretsManager(Array.from({ length: 4 }, () => ({ status: 200, body: { SecretString: 'key' } })));
    const endpoint = await sm.start();
    try {
      await expect(Promise.all(Array.from({ length: 4 }, () => fetchSecretString(arn, { endpoint, credentials })))).resolves.toEqual(['key', 'key', 'key', 'key']);
    } finally {
      await sm.stop();
    }
    expect(sm.seen.map((s) => s.signatureValid)).toEqual([true, true, true, true]);
  });

  it('retries throttling, 5xx and a dropped connection, then answers', async () => {
    const sm = fakeSecretsManager(['hang-up', { status: 400, body: { __type: 'com.amazonaws.secretsmanager#ThrottlingException', message: 'Rate exceeded' } }, { status: 503, body: {} }, { status: 200, body: { SecretString: 'key' } }]);
    const endpoint = await sm.start();
    try {
      await expect(fetchSecretString(arn, { endpoint, credentials, delayMs: 1 })).resolves.toBe('key');
    } finally {
      await sm.stop();
    }
    expect(sm.seen).toHaveLength(4);
    expect(sm.seen.every((s) => s.signatureValid)).toBe(true);
  });

  it('does not retry a refusal, names only its type, and gives up after the attempts', async () => {
    const sm = fakeSecretsManager([
      { status: 400, body: { __type: 'AccessDeniedException', message: 'User: arn:aws:sts::111111111111:assumed-role/x is not authorized' } },
      { status: 500, body: { __type: 'InternalServiceError' } },
      { status: 500, body: { __type: 'InternalServiceError' } },
    ]);
    const endpoint = await sm.start();
    try {
      const refused = fetchSecretString(arn, { endpoint, credentials, delayMs: 1 });
      await expect(refused).rejects.toThrow(new SecretFetchError('Secrets Manager refused GetSecretValue: 400 AccessDeniedException'));
      await expect(fetchSecretString(arn, { endpoint, credentials, delayMs: 1, attempts: 2 })).rejects.toThrow(/did not answer GetSecretValue after 2 attempts \(500 InternalServiceError\)/);
    } finally {
      await sm.stop();
    }
    expect(sm.seen).toHaveLength(3);
  });

  it('refuses a binary or empty secret, and refuses to run without credentials or a region', async () => {
    const sm = fakeSecretsManager([{ status: 200, body: { SecretBinary: 'AAAA' } }, { status: 200, body: { SecretString: '' } }]);
    const endpoint = await sm.start();
    try {
      await expect(fetchSecretString(arn, { endpoint, credentials })).rejects.toThrow(/no SecretString/);
      await expect(fetchSecretString(arn, { endpoint, credentials })).rejects.toThrow(/no SecretString/);
    } finally {
      await sm.stop();
    }
    const saved = { ...process.env };
    try {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      await expect(fetchSecretString(arn, { endpoint })).rejects.toThrow(/no AWS credentials/);
      delete process.env.AWS_REGION;
      await expect(fetchSecretString('dsr-hmac', { endpoint, credentials })).rejects.toThrow(/no region/);
    } finally {
      process.env = saved;
    }
  });

  it('finds the regional endpoint of any partition, new regions included', async () => {
    const urls: string[] = [];
    const fetchImpl = (async (url: URL) => {
      urls.push(url.toString());
      return new Response(JSON.stringify({ SecretString: 'key' }), { status: 200 });
    }) as unknown as typeof fetch;
    for (const region of ['ca-west-1', 'cn-north-1', 'us-gov-west-1', 'ap-southeast-7']) {
      const partition = region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
      await fetchSecretString(`arn:${partition}:secretsmanager:${region}:111111111111:secret:k`, { credentials, fetchImpl });
    }
    expect(urls).toEqual([
      'https://secretsmanager.ca-west-1.amazonaws.com/',
      'https://secretsmanager.cn-north-1.amazonaws.com.cn/',
      'https://secretsmanager.us-gov-west-1.amazonaws.com/',
      'https://secretsmanager.ap-southeast-7.amazonaws.com/',
    ]);
  });
});
