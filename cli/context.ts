/**
 * Where a command's deployment is: the variables `dsr local up` prints (or a CDK stack's
 * outputs, exported the same way). Commands get clients and a printer from here, so tests can
 * read their output.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import fs from 'node:fs';
import path from 'node:path';
import { Ledger } from '../functions/core/ledger';
import { Workspace } from '../functions/core/workspace';

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

export function clientsFor(deployment: Deployment): Clients {
  const sfn = new SFNClient({});
  const dynamodb = new DynamoDBClient({});
  const s3 = new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3) });
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
