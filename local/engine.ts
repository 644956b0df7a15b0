/**
 * The local engine: DynamoDB Local, the project's S3 endpoint and the Step Functions endpoint
 * on loopback, with the product's own resources created and every Task state wired to its
 * handler in this process. Everything lives under one data directory, so a demo can be looked
 * at afterwards and history survives a restart.
 */
import { CreateTableCommand, DynamoDBClient, ResourceInUseException, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseDataMap, type DataMap } from '../functions/core/datamap';
import { DEFAULT_SWEEP_MAX_ENTRIES, type DsrConfig } from '../functions/core/config';
import { LogPassSettingsSchema, type LogPassSettings } from '../functions/core/log-pass-settings';
import { ledgerTableDefinition } from '../functions/core/ledger';
import { runInContainer } from '../functions/core/lambda-container';
import { HANDLERS, localFunctionArn } from '../functions/handlers/registry';
import { startDynamoDbLocal, type RunningDynamoDbLocal } from './dynamodb';
import { LocalEngineError } from './errors';
import { createLocalAuthorizer, handlerCredentials, localCredentialsFor, type LocalAuthorizerOptions } from './iam/authorizer';
import { ROLE_NAMES, type MachineId } from '../infra/policies';
import { startDynamoDbProxy, type RunningDynamoDbProxy } from './iam/dynamodb-proxy';
import { freePort } from './ports';
import { startS3Server, type RunningS3Server } from './s3';
import { ACCOUNT_ID, startSfnServer, type LambdaHandler, type RunningSfnServer } from './sfn';
import { engineFiles, readEngineState, writeEngineState, type EngineState } from './state';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const DEFAULT_DATA_MAP = path.join(REPO_ROOT, 'examples/voip-operator/datamap.json');
export const STATE_MACHINES = {
  'subject-request': { name: 'dsr-subject-request', file: path.join(REPO_ROOT, 'statemachines/subject-request.asl.json'), envVar: 'DSR_STATE_MACHINE_ARN' },
  'retention-sweep': { name: 'dsr-retention-sweep', file: path.join(REPO_ROOT, 'statemachines/retention-sweep.asl.json'), envVar: 'DSR_SWEEP_STATE_MACHINE_ARN' },
  'log-erasure': { name: 'dsr-log-erasure', file: path.join(REPO_ROOT, 'statemachines/log-erasure.asl.json'), envVar: 'DSR_LOG_ERASURE_STATE_MACHINE_ARN' },
  'retention-enforcement': { name: 'dsr-retention-enforcement', file: path.join(REPO_ROOT, 'statemachines/retention-enforcement.asl.json'), envVar: 'DSR_ENFORCEMENT_STATE_MACHINE_ARN' },
} as const;

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local-secret' };

export interface EngineOptions {
  readonly dataDir: string;
  readonly host?: string;
  readonly region?: string;
  /** A data map JSON file; copied into the data directory on first start. Default: the reference operator. */
  readonly dataMapFile?: string;
  readonly approvalRequired?: boolean;
  readonly verificationMaxAgeDays?: number;
  /** Entries one retention sweep run erases (see Settings.sweepMaxEntries). */
  readonly sweepMaxEntries?: number;
  /** The batched log-erasure pass (see LogPassSettings); tests size it down. */
  readonly logPass?: Partial<LogPassSettings>;
  /**
   * false: nothing of the stores outlives stop() (for a data directory thrown away afterwards,
   * as the tests' are): DynamoDB Local keeps its tables in memory (not in its on-disk SQLite
   * store, several times slower to write), the S3 endpoint keeps its metadata in memory and
   * its object bytes in a temp dir removed at close, the Step Functions endpoint keeps its
   * executions in memory. The same endpoints otherwise. Default true: a restart finds them.
   */
  readonly persist?: boolean;
  /** Changes a principal's policy before it is enforced (a test showing that a missing action is denied). */
  readonly iamPolicyOverride?: LocalAuthorizerOptions['override'];
}

/** One call IAM refused: who, what, on which resource (kept in memory only: resource ARNs may name a subject's keys). */
export interface AccessDenial {
  readonly accessKeyId: string;
  readonly action: string;
  readonly resource: string;
}

export interface RunningEngine {
  readonly env: Record<string, string>;
  readonly state: EngineState;
  /** Every call IAM denied since the engine started. */
  readonly denials: readonly AccessDenial[];
  stop(): Promise<void>;
}

/** Loads the data map the engine was (or will be) started with, failing with its error paths. */
export function loadDataMapFile(file: string): DataMap {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LocalEngineError(`cannot read the data map ${file}: ${(err as Error).message}`);
  }
  return parseDataMap(raw, file);
}

export async function startEngine(opts: EngineOptions): Promise<RunningEngine> {
  const host = opts.host ?? '127.0.0.1';
  const region = opts.region ?? 'us-east-1';
  const dataDir = path.resolve(opts.dataDir);
  const files = engineFiles(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });

  const previous = readEngineState(dataDir);
  if (previous && isAlive(previous.pid) && previous.pid !== process.pid) {
    throw new LocalEngineError(`an engine is already running for ${dataDir} (pid ${previous.pid}); stop it with: dsr local down --data ${dataDir}`);
  }
  // A directory left by a crashed run: its data is kept, its stale processes are not.
  if (previous?.dynamodbPid && isAlive(previous.dynamodbPid)) process.kill(previous.dynamodbPid, 'SIGKILL');

  const dataMapFile = fs.existsSync(files.dataMap) ? files.dataMap : (opts.dataMapFile ?? DEFAULT_DATA_MAP);
  const dataMap = loadDataMapFile(dataMapFile);
  if (dataMapFile !== files.dataMap) fs.writeFileSync(files.dataMap, JSON.stringify(dataMap, null, 2));
  if (!fs.existsSync(files.hmacKey)) fs.writeFileSync(files.hmacKey, randomBytes(32).toString('hex'), { mode: 0o600 });

  const settings = {
    ledgerTable: 'dsr-ledger',
    workBucket: 'dsr-work',
    bundleBucket: 'dsr-bundles',
    verificationMaxAgeDays: opts.verificationMaxAgeDays ?? 30,
    approvalRequired: opts.approvalRequired ?? false,
    sweepMaxEntries: opts.sweepMaxEntries ?? DEFAULT_SWEEP_MAX_ENTRIES,
    bundleUrlExpirySeconds: 900,
    connectorConcurrency: 8,
    logPass: LogPassSettingsSchema.parse(opts.logPass ?? {}),
    enforcementMaxStartsPerRun: 100,
  };
  const config: DsrConfig = { dataMap, settings };
  fs.writeFileSync(files.config, JSON.stringify(config, null, 2));

  let dynamodb: RunningDynamoDbLocal | undefined;
  let dynamodbProxy: RunningDynamoDbProxy | undefined;
  let s3: RunningS3Server | undefined;
  let sfn: RunningSfnServer | undefined;
  const stopAll = async () => {
    await Promise.allSettled([sfn?.close(), s3?.close(), dynamodbProxy?.close(), dynamodb?.stop()]);
  };
  // One IAM decision point for every endpoint: whatever AWS would refuse, the engine refuses.
  const denials: AccessDenial[] = [];
  const authorize = createLocalAuthorizer({
    dataMap,
    settings,
    region,
    accountId: ACCOUNT_ID,
    override: opts.iamPolicyOverride,
    onDenied: (accessKeyId, request) => void denials.push({ accessKeyId, action: request.action, resource: request.resource }),
  });
  // Java takes a second or more to start: the S3 and Step Functions endpoints (loading and
  // validating the state machines) start meanwhile; nothing they do at start needs DynamoDB.
  const persist = opts.persist ?? true;
  const dynamodbStarting = freePort(host).then((port) => startDynamoDbLocal({ host, port, ...(persist ? { dataDir: path.join(dataDir, 'dynamodb') } : {}) }));
  dynamodbStarting.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
  try {
    s3 = await startS3Server({ host, port: 0, ...(persist ? { dataDir: path.join(dataDir, 's3') } : {}), region, accountId: ACCOUNT_ID, authorize });
    const lambdas: Record<string, LambdaHandler> = {};
    // The enforcement machine starts subject requests: the machine's ARN is one of its substitutions (as in infra/machines.ts).
    const substitutions: Record<string, Record<string, string>> = {
      'subject-request': {},
      'retention-sweep': {},
      'log-erasure': {},
      'retention-enforcement': { SubjectRequestStateMachineArn: `arn:aws:states:${region}:${ACCOUNT_ID}:stateMachine:${STATE_MACHINES['subject-request'].name}` },
    };
    for (const spec of HANDLERS) {
      const arn = localFunctionArn(region, spec.id);
      substitutions[spec.machine][spec.substitution] = arn;
      lambdas[arn] = lazyHandler(spec.id, spec.module, spec.exportName);
    }
    sfn = await startSfnServer({
      host,
      port: 0,
      region,
      ...(persist ? { dataDir: path.join(dataDir, 'stepfunctions') } : {}),
      stateMachines: Object.entries(STATE_MACHINES).map(([id, m]) => ({ name: m.name, definitionPath: m.file, substitutions: substitutions[id] })),
      lambdas,
      authorize,
      // A Distributed Map reads and writes S3 and starts its children as the machine's own role.
      s3Endpoint: s3.endpoint,
      machineCredentials: (name) => {
        const id = (Object.keys(STATE_MACHINES) as MachineId[]).find((m) => STATE_MACHINES[m].name === name);
        if (!id) throw new LocalEngineError(`no role for state machine ${name}`);
        return localCredentialsFor(ROLE_NAMES.machine(id));
      },
    });
    dynamodb = await dynamodbStarting;
    // DynamoDB Local cannot check IAM: every client talks to it through the proxy.
    dynamodbProxy = await startDynamoDbProxy({ host, port: 0, target: dynamodb.endpoint, authorize, region, accountId: ACCOUNT_ID });

    const env: Record<string, string> = {
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbProxy.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      DSR_LOCAL_DIR: dataDir,
      DSR_LEDGER_TABLE: settings.ledgerTable,
      DSR_WORK_BUCKET: settings.workBucket,
      DSR_BUNDLE_BUCKET: settings.bundleBucket,
    };
    // The in-process handlers read the same variables a Lambda function would get.
    // Locally, `dsr sweep --now` may look into the future: that is how a demo shows deferred erasure.
    Object.assign(process.env, env, { DSR_CONFIG_FILE: files.config, DSR_HMAC_KEY_FILE: files.hmacKey, DSR_CLOCK_FILE: files.clock, DSR_ALLOW_SWEEP_IN_FUTURE: 'true' });
    await createProductResources(env, settings);

    env.AWS_ENDPOINT_URL_SFN = sfn.endpoint;
    for (const m of Object.values(STATE_MACHINES)) env[m.envVar] = `arn:aws:states:${region}:000000000000:stateMachine:${m.name}`;
    process.env.AWS_ENDPOINT_URL_SFN = sfn.endpoint;

    const state: EngineState = { pid: process.pid, dynamodbPid: dynamodb.pid, startedAt: new Date().toISOString(), env };
    writeEngineState(dataDir, state);
    fs.writeFileSync(files.endpoints, formatExports(env));
    return {
      env,
      state,
      denials,
      async stop() {
        await stopAll();
        fs.rmSync(files.state, { force: true });
      },
    };
  } catch (err) {
    // A Java still starting is stopped too once it is up (or its own failure is dropped).
    dynamodb ??= await dynamodbStarting.catch(() => undefined);
    await stopAll();
    throw err;
  }
}

function lazyHandler(id: string, module: string, exportName: string): LambdaHandler {
  let loaded: LambdaHandler | undefined;
  // Each function in its own container, signing as its own role, as on Lambda.
  const container = { id, credentials: handlerCredentials(id) };
  return async (event, context) => {
    // Loaded on first use so the engine starts fast and a broken handler fails only its Task.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded ??= require(path.join(REPO_ROOT, 'functions/handlers', module))[exportName] as LambdaHandler;
    const handler = loaded;
    return runInContainer(container, () => handler(event, context));
  };
}

async function createProductResources(env: Record<string, string>, settings: { ledgerTable: string; workBucket: string; bundleBucket: string }): Promise<void> {
  const credentials = LOCAL_CREDENTIALS;
  const ddb = new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, region: env.AWS_REGION, credentials });
  const s3 = new S3Client({ endpoint: env.AWS_ENDPOINT_URL_S3, region: env.AWS_REGION, credentials, forcePathStyle: true });
  try {
    try {
      await ddb.send(new CreateTableCommand(ledgerTableDefinition(settings.ledgerTable)));
      await waitUntilTableExists({ client: ddb, maxWaitTime: 30 }, { TableName: settings.ledgerTable });
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    for (const bucket of [settings.workBucket, settings.bundleBucket]) {
      try {
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
      }
    }
    await s3.send(new PutBucketVersioningCommand({ Bucket: settings.workBucket, VersioningConfiguration: { Status: 'Enabled' } }));
  } finally {
    ddb.destroy();
    s3.destroy();
  }
}

export function formatExports(env: Record<string, string>): string {
  return (
    Object.entries(env)
      .map(([k, v]) => `export ${k}=${shellQuote(v)}`)
      .join('\n') + '\n'
  );
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed engine whose parent has not reaped it yet still answers signal 0 (a zombie).
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): trust the signal
  }
}
