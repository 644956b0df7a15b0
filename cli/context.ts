/**
 * Where a command's deployment is: the variables `dsr local up` prints (or a CDK stack's
 * outputs, exported the same way). Commands get clients and a printer from here, so tests can
 * read their output.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import { Ledger } from '../functions/core/ledger';
import { Workspace } from '../functions/core/workspace';
import { PEOPLE, personCredentials, type Person } from '../local/iam/authorizer';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, environment: 3, refused: 4, timeout: 5 } as const;

export interface Printer {
  out(text: string): void;
  err(text: string): void;
}

export const stdPrinter: Printer = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

export interface Deployment {
  readonly ledgerTable: string;
  readonly workBucket: string;
  readonly bundleBucket: string;
  readonly stateMachineArn: string;
  readonly sweepStateMachineArn?: string;
  readonly logErasureStateMachineArn?: string;
  readonly localDir?: string;
}

/** Reads `DIR/endpoints.env` into process.env, as `eval "$(dsr local up …)"` would have. */
export function loadLocalEnv(dir: string): void {
  const file = path.join(dir, 'endpoints.env');
  if (!fs.existsSync(file)) throw new CliError(`no local engine in ${dir}: start one with: npx dsr local up --data ${dir} --detach`, EXIT.environment);
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) process.env[m[1]] = m[2].replace(/^'(.*)'$/, '$1').replace(/'\\''/g, "'");
  }
}

export function deploymentFromEnv(env: NodeJS.ProcessEnv = process.env): Deployment {
  if (env.DSR_LOCAL_DIR && !env.DSR_STATE_MACHINE_ARN) loadLocalEnv(env.DSR_LOCAL_DIR);
  const missing = ['DSR_LEDGER_TABLE', 'DSR_WORK_BUCKET', 'DSR_BUNDLE_BUCKET', 'DSR_STATE_MACHINE_ARN'].filter((k) => !env[k]);
  if (missing.length > 0) {
    throw new CliError(
      `no deployment configured (missing ${missing.join(', ')}). Locally: eval "$(npx dsr local up --data DIR --detach)" or pass --data DIR; on AWS: export the stack outputs.`,
      EXIT.environment,
    );
  }
  return {
    ledgerTable: env.DSR_LEDGER_TABLE!,
    workBucket: env.DSR_WORK_BUCKET!,
    bundleBucket: env.DSR_BUNDLE_BUCKET!,
    stateMachineArn: env.DSR_STATE_MACHINE_ARN!,
    sweepStateMachineArn: env.DSR_SWEEP_STATE_MACHINE_ARN,
    logErasureStateMachineArn: env.DSR_LOG_ERASURE_STATE_MACHINE_ARN,
    localDir: env.DSR_LOCAL_DIR,
  };
}

export interface Clients {
  readonly deployment: Deployment;
  readonly sfn: SFNClient;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly ledger: Ledger;
  readonly workspace: Workspace;
  close(): void;
}

/** Who `dsr --as` (or DSR_AS) runs the command as, for this one run of `main` (runs may overlap in a test process). */
export const cliPrincipal = new AsyncLocalStorage<Person | undefined>();

export function parsePrincipal(value: string | undefined, source: string): Person | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(value in PEOPLE)) throw new CliError(`${source}: "${value}" is not a principal; use one of ${Object.keys(PEOPLE).join(', ')}`);
  return value as Person;
}

/**
 * With `--as`, the local credentials of that role, whose policy the local engine enforces;
 * without, whatever credentials the environment has (locally the engine's administrator key),
 * as on AWS. On AWS a role is a profile: AWS_PROFILE, not --as.
 */
function credentialsFor(deployment: Deployment): { credentials?: { accessKeyId: string; secretAccessKey: string } } {
  const person = cliPrincipal.getStore();
  // On AWS the role's credentials come from the environment (AWS_PROFILE of the role); --as
  // still tells the commands to read only what that role's policy allows.
  if (!person || !deployment.localDir) return {};
  return { credentials: personCredentials(person) };
}

export function clientsFor(deployment: Deployment): Clients {
  const auth = credentialsFor(deployment);
  const sfn = new SFNClient({ ...auth });
  const dynamodb = new DynamoDBClient({ ...auth });
  const s3 = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3), ...auth });
  return {
    deployment,
    sfn,
    dynamodb,
    s3,
    ledger: new Ledger(dynamodb, deployment.ledgerTable),
    workspace: new Workspace(s3, deployment.workBucket),
    close() {
      sfn.destroy();
      dynamodb.destroy();
      s3.destroy();
    },
  };
}

/** A date option (`--now`, `--ends-at`) as ISO 8601; a clear error naming the option otherwise. */
export function parseDateOption(value: string, flag: string): string {
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) throw new CliError(`${flag}: not a date: "${value}" (use ISO 8601, e.g. 2027-01-31 or 2027-01-31T00:00:00Z)`);
  return d.toISOString();
}
