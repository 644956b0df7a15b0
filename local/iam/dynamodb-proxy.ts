/**
 * IAM in front of DynamoDB Local, which cannot check it: every request is decided from its
 * X-Amz-Target and JSON body (dynamodb-actions.ts) for the access key it is signed with; a denial
 * is DynamoDB's own 400 AccessDeniedException, everything else goes to DynamoDB Local and its
 * answer comes back byte for byte, headers included. Key schemas (for dynamodb:LeadingKeys) come
 * from DescribeTable sent straight to DynamoDB Local and are cached until the table changes.
 */
import { randomBytes } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { accessKeyFromAuthorization } from './access-key';
import { dynamoDbRequests, type TableKeys } from './dynamodb-actions';
import { accessDeniedMessage, type AuthzDecision, type AuthzRequest, type Authorizer } from './types';
import { isUnknownAccessKey, UNRECOGNIZED_CLIENT_MESSAGE } from './unknown-key';

export interface DynamoDbProxyOptions {
  readonly host?: string;
  /** 0 or absent: a free port. */
  readonly port?: number;
  /** DynamoDB Local's endpoint, e.g. http://127.0.0.1:8000. */
  readonly target: string;
  readonly authorize: Authorizer;
  /** For table ARNs; default us-east-1 and 000000000000. */
  readonly region?: string;
  readonly accountId?: string;
}

export interface RunningDynamoDbProxy {
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

const TARGET_PREFIX = 'DynamoDB_20120810.';
/** Operations after which a cached key schema may be stale. */
const SCHEMA_CHANGES = new Set(['CreateTable', 'DeleteTable', 'UpdateTable']);

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** DynamoDB's answer to a denied request: what the SDK v3 raises as AccessDeniedException (or UnrecognizedClientException) and the CLI prints. */
function sendDenied(res: ServerResponse, request: AuthzRequest, decision: Extract<AuthzDecision, { allowed: false }>): void {
  const error = isUnknownAccessKey(decision)
    ? { __type: 'com.amazon.coral.service#UnrecognizedClientException', message: UNRECOGNIZED_CLIENT_MESSAGE }
    : { __type: 'com.amazon.coral.service#AccessDeniedException', Message: accessDeniedMessage(request, decision) };
  const body = Buffer.from(JSON.stringify(error));
  res.writeHead(400, {
    'x-amzn-RequestId': randomBytes(26).toString('base64url').toUpperCase().slice(0, 52),
    'x-amz-crc32': String(crc32(body)),
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': String(body.length),
  });
  res.end(body);
}

/** A request to DynamoDB Local: the caller's own when forwarding, or the proxy's DescribeTable. */
function toTarget(target: URL, agent: Agent, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const out = httpRequest({ host: target.hostname, port: target.port, method, path, headers, agent }, resolve);
    out.on('error', reject);
    out.end(body);
  });
}

export async function startDynamoDbProxy(opts: DynamoDbProxyOptions): Promise<RunningDynamoDbProxy> {
  const target = new URL(opts.target);
  const scope = { region: opts.region ?? 'us-east-1', accountId: opts.accountId ?? '000000000000' };
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const schemas = new Map<string, Promise<TableKeys | undefined>>();

  /** DescribeTable on DynamoDB Local, signed like the request it serves (DynamoDB Local reads the credential, not the signature). */
  const describe = async (table: string, like: IncomingHttpHeaders): Promise<TableKeys | undefined> => {
    const body = Buffer.from(JSON.stringify({ TableName: table }));
    const headers: IncomingHttpHeaders = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `${TARGET_PREFIX}DescribeTable`,
      'content-length': String(body.length),
      ...(like.authorization ? { authorization: like.authorization } : {}),
      ...(like['x-amz-date'] ? { 'x-amz-date': like['x-amz-date'] } : {}),
    };
    const res = await toTarget(target, agent, 'POST', '/', headers, body);
    const text = (await readAll(res)).toString('utf8');
    if (res.statusCode !== 200) return undefined;
    const t = (JSON.parse(text) as { Table?: DescribedTable }).Table;
    if (!t) return undefined;
    const hashOf = (schema: KeyElement[] | undefined) => schema?.find((k) => k.KeyType === 'HASH')?.AttributeName;
    const indexes: Record<string, string> = {};
    for (const i of [...(t.GlobalSecondaryIndexes ?? []), ...(t.LocalSecondaryIndexes ?? [])]) {
      const h = hashOf(i.KeySchema);
      if (h) indexes[i.IndexName] = h;
    }
    const hash = hashOf(t.KeySchema);
    return hash ? { hash, indexes } : undefined;
  };

  const keysFor = (headers: IncomingHttpHeaders) => (table: string) => {
    const name = table.startsWith('arn:') ? table.slice(table.indexOf('table/') + 6) : table;
    let cached = schemas.get(name);
    if (!cached) {
      cached = describe(table, headers).catch(() => undefined);
      schemas.set(name, cached);
      // A table that does not exist (yet) is looked up again next time.
      void cached.then((k) => {
        if (!k && schemas.get(name) === cached) schemas.delete(name);
      });
    }
    return cached;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readAll(req);
    const header = req.headers['x-amz-target'];
    const operation = typeof header === 'string' && header.startsWith(TARGET_PREFIX) ? header.slice(TARGET_PREFIX.length) : undefined;
    let parsed: Record<string, unknown> | undefined;
    if (operation !== undefined) {
      try {
        const json: unknown = JSON.parse(body.toString('utf8') || '{}');
        if (typeof json === 'object' && json !== null && !Array.isArray(json)) parsed = json as Record<string, unknown>;
      } catch {
        parsed = undefined; // DynamoDB Local answers the SerializationException itself
      }
    }
    if (operation !== undefined && parsed !== undefined) {
      const accessKey = accessKeyFromAuthorization(req.headers.authorization) ?? '';
      for (const r of await dynamoDbRequests(operation, parsed, scope, keysFor(req.headers))) {
        const decision = opts.authorize(accessKey, r);
        if (!decision.allowed) return sendDenied(res, r, decision);
      }
    }
    const upstream = await toTarget(target, agent, req.method ?? 'POST', req.url ?? '/', req.headers, body);
    if (operation !== undefined && SCHEMA_CHANGES.has(operation) && typeof parsed?.TableName === 'string') {
      const name = parsed.TableName;
      schemas.delete(name.startsWith('arn:') ? name.slice(name.indexOf('table/') + 6) : name);
    }
    res.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, upstream.rawHeaders);
    upstream.pipe(res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      const body = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: `local DynamoDB proxy: ${(err as Error).message}` });
      res.writeHead(500, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `local DynamoDB proxy: port ${opts.port} on ${host} is already in use` : `local DynamoDB proxy: cannot listen on ${host}:${opts.port ?? 0}: ${err.message}`, { cause: err })),
    );
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return closing;
    },
  };
}

interface KeyElement {
  AttributeName: string;
  KeyType: string;
}
interface DescribedTable {
  KeySchema?: KeyElement[];
  GlobalSecondaryIndexes?: { IndexName: string; KeySchema?: KeyElement[] }[];
  LocalSecondaryIndexes?: { IndexName: string; KeySchema?: KeyElement[] }[];
}
