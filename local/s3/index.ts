import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { allowAll, type Authorizer } from '../iam/types';
import { createHandler } from './server';
import { Store } from './store';

export interface S3ServerOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Persist under this directory; without it data lives in a private temp dir removed on close(). */
  dataDir?: string;
  /** Region reported for buckets created without a LocationConstraint; default us-east-1. */
  region?: string;
  /** The account owning the buckets (KMS key ARNs are in it); default 000000000000, the local engine's. */
  accountId?: string;
  /** Receives unexpected internal errors (500s); default: console.error. */
  log?: (line: string) => void;
  /** IAM for every request (see local/iam/types.ts); default: everything is allowed. */
  authorize?: Authorizer;
}

export interface RunningS3Server {
  /** e.g. http://127.0.0.1:PORT: use with forcePathStyle (SDK) or addressing_style = path (CLI). */
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts a local S3-compatible endpoint (path-style addressing) with versioning, Object Lock,
 * multipart uploads and streaming bodies. Rejects with an error naming the port if it is taken.
 */
export async function startS3Server(opts: S3ServerOptions = {}): Promise<RunningS3Server> {
  const host = opts.host ?? '127.0.0.1';
  const wanted = opts.port ?? 0;
  const ephemeral = opts.dataDir === undefined;
  const root = ephemeral ? await mkdtemp(join(tmpdir(), 'dsr-s3-')) : resolve(opts.dataDir as string);
  if (!ephemeral) await mkdir(root, { recursive: true });
  const store = await Store.open(root, !ephemeral);
  let endpoint = '';
  const server = createServer(
    createHandler({ store, region: opts.region ?? 'us-east-1', account: opts.accountId ?? '000000000000', endpoint: () => endpoint, log: opts.log ?? console.error, authorize: opts.authorize ?? allowAll }),
  );
  // Large streamed bodies (1 GB benchmark objects) must not be cut off by node's default timeouts.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((ok, fail) => {
      const onError = (err: NodeJS.ErrnoException) => {
        server.off('listening', onListening);
        fail(
          err.code === 'EADDRINUSE'
            ? new Error(`local S3 endpoint: port ${wanted} on ${host} is already in use`, { cause: err })
            : new Error(`local S3 endpoint: cannot listen on ${host}:${wanted}: ${err.message}`, { cause: err }),
        );
      };
      const onListening = () => {
        server.off('error', onError);
        ok();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(wanted, host);
    });
  } catch (err) {
    await store.close();
    if (ephemeral) await rm(root, { recursive: true, force: true });
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  // A wildcard listener is reachable on loopback; the wildcard itself is not a usable address.
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  endpoint = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    endpoint,
    port,
    close() {
      closing ??= (async () => {
        await new Promise<void>((ok) => {
          server.close(() => ok());
          // Keep-alive sockets held by SDK clients would otherwise keep close() waiting.
          server.closeAllConnections();
        });
        await store.close();
        if (ephemeral) await rm(root, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}
