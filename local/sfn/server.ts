import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { allowAll, type Authorizer } from '../iam/types';
import { authorizeSfn } from './authorize';
import { DefinitionError, loadDefinition, type AslMachine } from './definition';
import { ExecutionManager } from './executions';
import { stateMachineArn, type ExecutionRecord, type MachineEntry } from './model';
import { isOperation, operations } from './operations';
import { parseJsonBody, readBody, send, sendError, SfnError, TARGET_PREFIX } from './protocol';
import { ExecutionStore } from './store';
import { assertRunnable, handlerResolver, type LambdaHandler } from './tasks';

export interface LocalStateMachine {
  /** State machine name: arn:aws:states:<region>:000000000000:stateMachine:<name>. */
  name: string;
  /** An ASL JSON file. */
  definitionPath: string;
  /** CDK definitionSubstitutions, e.g. { ValidateRequestFunctionArn: 'arn:aws:lambda:...' }. */
  substitutions: Record<string, string>;
}

export interface SfnServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Defaults to us-east-1. */
  region?: string;
  /** Persist executions and history as JSON under it; absent = memory only. */
  dataDir?: string;
  stateMachines: LocalStateMachine[];
  /** Keyed by function ARN or bare function name. */
  lambdas: Record<string, LambdaHandler>;
  /** Multiplies Retry intervals; the default 0.001 turns seconds into milliseconds. */
  retryIntervalScale?: number;
  /** IAM for every call (see local/iam/types.ts); default: everything is allowed. */
  authorize?: Authorizer;
  /** The local S3 endpoint for Distributed Map ItemReader/ResultWriter calls. */
  s3Endpoint?: string;
  /** The credentials a machine's role signs with (by machine name); default the admin key `local`. */
  machineCredentials?: (machineName: string) => { accessKeyId: string; secretAccessKey: string };
}

export interface RunningSfnServer {
  endpoint: string;
  port: number;
  close(): Promise<void>;
  /** Resolves with the execution once it is no longer RUNNING (clients may poll DescribeExecution instead). */
  waitForExecution(executionArn: string, timeoutMs?: number): Promise<ExecutionRecord>;
}

/**
 * The definitions (by substituted text) the library has validated in this process, each as it
 * left the validation (asl-validator fills in every state's `QueryLanguage`). Validating compiles
 * the ASL JSON schemas afresh (~0.4 s of CPU per machine): a server started again with the same
 * text (a test file starting several engines) gets the same result without doing it again.
 */
const validatedDefinitions = new Map<string, string>();

function validated(path: string, text: string, definition: AslMachine): AslMachine {
  const known = validatedDefinitions.get(text);
  if (known !== undefined) return JSON.parse(known) as AslMachine;
  try {
    // The library's own validation (asl-validator) runs once here, not per execution.
    new StateMachine(definition as unknown as StateMachineDefinition);
  } catch (err) {
    throw new DefinitionError(`${path}: ${(err as Error).message}`);
  }
  validatedDefinitions.set(text, JSON.stringify(definition));
  return definition;
}

function loadMachines(opts: SfnServerOptions, region: string): MachineEntry[] {
  const names = new Set<string>();
  return opts.stateMachines.map((sm) => {
    if (names.has(sm.name)) throw new DefinitionError(`state machine name '${sm.name}' is registered twice`);
    names.add(sm.name);
    const loaded = loadDefinition(sm.definitionPath, sm.substitutions);
    assertRunnable(loaded.definition, opts.lambdas, sm.definitionPath);
    const definition = validated(sm.definitionPath, loaded.text, loaded.definition);
    return { name: sm.name, arn: stateMachineArn(region, sm.name), definition, text: loaded.text, creationDate: Date.now() };
  });
}

interface Served {
  manager: ExecutionManager;
  authorize: Authorizer;
  region: string;
}

async function handle(req: IncomingMessage, res: ServerResponse, { manager, authorize, region }: Served): Promise<void> {
  try {
    if (req.method !== 'POST') throw new SfnError('UnknownOperationException', `${req.method} ${req.url} is not a Step Functions operation`, 404);
    const target = req.headers['x-amz-target'];
    const operation = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const body = await readBody(req);
    if (!isOperation(operation)) {
      throw new SfnError('UnknownOperationException', `Operation '${String(target ?? '')}' is not supported by the local Step Functions server`);
    }
    const input = parseJsonBody(body);
    authorizeSfn(authorize, req.headers.authorization, operation, input, region);
    send(res, 200, operations[operation](input, manager));
  } catch (err) {
    sendError(res, err);
  }
}

export async function startSfnServer(opts: SfnServerOptions): Promise<RunningSfnServer> {
  const region = opts.region ?? 'us-east-1';
  const machines = loadMachines(opts, region);
  const store = new ExecutionStore(opts.dataDir);
  const manager = new ExecutionManager({
    region,
    machines,
    resolve: handlerResolver(opts.lambdas),
    retryIntervalScale: opts.retryIntervalScale ?? 0.001,
    store,
    authorize: opts.authorize,
    s3Endpoint: opts.s3Endpoint,
    machineCredentials: opts.machineCredentials,
  });
  await store.flush();

  const served: Served = { manager, authorize: opts.authorize ?? allowAll, region };
  const server = createServer((req, res) => void handle(req, res, served));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    waitForExecution: (arn, timeoutMs) => manager.waitFor(arn, timeoutMs),
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
        // SDK clients keep connections alive; without this close() waits for their idle timeout.
        server.closeIdleConnections();
        await stopped;
        await manager.close();
      })();
      return closing;
    },
  };
}
