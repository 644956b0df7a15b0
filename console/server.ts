/**
 * `dsr console` locally: one Node http server for the page and the API, against the local
 * engine whose variables are in process.env. Sign-in is local (`POST /api/login` with a user
 * of DIR/console-users.json); the API is console/api/router.ts, as in the Lambda.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deploymentFromEnv } from '../cli/context';
import { checkPassword, loadOrCreateUsers, signToken, verifyToken, type LocalUsers } from './api/auth';
import { dispatch, type ApiRequest } from './api/router';
import { buildUiAssets, SECURITY_HEADERS } from './assets';

export interface ConsoleServer {
  readonly url: string;
  readonly users: LocalUsers;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type });
  res.end(body);
}

const json = (res: http.ServerResponse, status: number, body: unknown) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));

export async function startConsoleServer(opts: { dataDir: string; port?: number; host?: string; log?: (line: string) => void }): Promise<ConsoleServer> {
  const deployment = deploymentFromEnv();
  const users = loadOrCreateUsers(opts.dataDir);
  const assets = await buildUiAssets();
  const log = opts.log ?? (() => undefined);
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://console.local');
      const method = req.method ?? 'GET';
      if (!url.pathname.startsWith('/api/')) {
        const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
        if (name === 'config.json') return json(res, 200, { auth: 'local' });
        const file = assets[name];
        return file && method === 'GET' ? send(res, 200, file.type, file.body) : json(res, 404, { error: 'not-found', message: 'no such file', fields: [] });
      }
      let body: unknown;
      try {
        const text = method === 'POST' ? await readBody(req) : '';
        body = text ? JSON.parse(text) : undefined;
      } catch {
        return json(res, 400, { error: 'invalid-input', message: 'the body is not JSON (at most 64 KiB)', fields: [{ field: '(body)', message: 'not JSON' }] });
      }
      if (url.pathname === '/api/login' && method === 'POST') {
        const b = (body ?? {}) as { user?: unknown; password?: unknown };
        const caller = typeof b.user === 'string' && typeof b.password === 'string' ? checkPassword(users, b.user, b.password) : undefined;
        if (!caller) return json(res, 401, { error: 'unauthenticated', message: 'unknown user or wrong password', fields: [] });
        return json(res, 200, { token: signToken(users.secret, caller), ...caller });
      }
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const apiReq: ApiRequest = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), body, caller: bearer ? verifyToken(users.secret, bearer) : undefined };
      const out = await dispatch(apiReq, { deployment, onError: (e, r) => log(`${r.method} ${r.path} ${e.status} ${e.code}${e.cause ? ` (${(e.cause as Error).name})` : ''}`) });
      json(res, out.status, out.body);
    })().catch((err: unknown) => {
      log(`console: ${(err as Error).name}`);
      if (!res.headersSent) json(res, 500, { error: 'internal', message: 'the console could not answer', fields: [] });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}/`,
    users,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
