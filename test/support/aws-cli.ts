/**
 * The real `aws` CLI against the local endpoints, as a user runs it. It runs asynchronously:
 * the endpoints serve from the test's own process, which a synchronous child would block.
 */
import { execFile, spawnSync } from 'node:child_process';

/** Whether the `aws` CLI is on this machine (`.ci/run` installs Debian's awscli where it is not). */
export const hasAwsCli = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * The CLI's environment with only the given key: no config or credentials file of the machine's
 * user, no instance metadata, no pager, so that nothing but the arguments decides the call.
 */
export function awsCliEnv(accessKeyId = 'local', extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    ...extra,
  };
}

export interface AwsCliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `aws --endpoint-url <endpoint> --output json <args...>`; never throws, the exit code says how it went. */
export function awsCli(endpoint: string, args: readonly string[], env: NodeJS.ProcessEnv = awsCliEnv()): Promise<AwsCliRun> {
  return new Promise((resolve) =>
    execFile('aws', ['--endpoint-url', endpoint, '--output', 'json', ...args], { env }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}

/** A call that exited non-zero: the CLI's exit code and what it printed on stderr. */
export class AwsCliFailed extends Error {
  constructor(
    readonly args: readonly string[],
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`aws ${args.join(' ')} exited ${code}: ${stderr}`);
    this.name = 'AwsCliFailed';
  }
}

/** The parsed JSON answer of a call that must succeed; a failure rejects with AwsCliFailed. */
export async function awsJson<T = Record<string, unknown>>(endpoint: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<T> {
  const run = await awsCli(endpoint, args, env);
  if (run.code !== 0) throw new AwsCliFailed(args, run.code, run.stderr);
  return JSON.parse(run.stdout) as T;
}
