import net from 'node:net';
import { LocalEngineError } from './errors';

/** A port the OS says is free right now on `host`. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Waits until something accepts connections on host:port. `failed` is polled so a child
 * process that died is reported at once, with its reason, instead of after the timeout.
 */
export async function waitForPort(host: string, port: number, timeoutMs: number, failed?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = failed?.();
    if (reason) throw new LocalEngineError(reason);
    if (await canConnect(host, port)) return;
    if (Date.now() > deadline) throw new LocalEngineError(`nothing answered on ${host}:${port} within ${timeoutMs} ms`);
    // A refused loopback connect costs well under a millisecond: look often, so a JVM that is up
    // is found within 20 ms rather than 100 (every DynamoDB Local start waits here).
    await new Promise((r) => setTimeout(r, 20));
  }
}
