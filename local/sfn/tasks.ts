import { randomUUID } from 'node:crypto';
import { collectStates, DEFAULT_TASK_TIMEOUT_SECONDS, DISTRIBUTED_MAP_RESOURCE, isDistributed, unsupportedDistributed, DefinitionError, type AslMachine, type AslState } from './definition';
import type { HistoryRecorder, TaskSlot } from './history';
import { ACCOUNT_ID } from './model';
import { DATA_LIMIT_ERROR, exceedsPayloadLimit, inputTooLargeCause, MAX_PAYLOAD_BYTES, resultTooLargeCause } from './limits';

/** The engine's contract is the first three members; the rest mirror Lambda's context for handlers that log them. */
export interface LambdaContext {
  functionName: string;
  awsRequestId: string;
  getRemainingTimeInMillis(): number;
  functionVersion?: string;
  invokedFunctionArn?: string;
  memoryLimitInMB?: string;
  logGroupName?: string;
  logStreamName?: string;
}
export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:([^:]+)/;
const SERVICE_ARN = /^arn:aws[a-z-]*:states:::([^:]+):(.+)$/;

/** Thrown into the library so Retry/Catch match on `name`; the message is the Cause. */
export class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** States.DataLimitExceeded is terminal on AWS: not even States.ALL retries or catches it. */
export class TerminalTaskFailure extends TaskFailure {
  get isRetryable(): boolean {
    return false;
  }
  get isCatchable(): boolean {
    return false;
  }
}

export const functionNameOf = (ref: string): string => FUNCTION_ARN.exec(ref)?.[1] ?? (ref.includes(':function:') ? ref.split(':function:')[1].split(':')[0] : ref.split(':')[0]);

/** Looks a handler up by exact key first, then by function name, so ARNs, names and aliases all resolve. */
export function handlerResolver(lambdas: Record<string, LambdaHandler>): (ref: string) => LambdaHandler | undefined {
  const byName = new Map<string, LambdaHandler>();
  for (const [key, handler] of Object.entries(lambdas)) if (!byName.has(functionNameOf(key))) byName.set(functionNameOf(key), handler);
  return (ref) => lambdas[ref] ?? byName.get(functionNameOf(ref));
}

/**
 * Rejects at startup what can never run locally, rather than failing mid-execution: callback
 * and .sync patterns (the library has no $$.Task.Token), and service integrations other than
 * Lambda unless a handler is registered under the exact Resource ARN to stand in for them.
 */
export function assertRunnable(machine: AslMachine, lambdas: Record<string, LambdaHandler>, where: string): void {
  for (const { name, state } of collectStates(machine, where)) {
    const refused = isDistributed(state) ? unsupportedDistributed(state) : undefined;
    if (refused) throw new DefinitionError(`${where}: Distributed Map '${name}': ${refused}`);
    if (state.Type !== 'Task') continue;
    const resource = state.Resource ?? '';
    if (resource === LAMBDA_INVOKE || FUNCTION_ARN.test(resource) || lambdas[resource]) continue;
    throw new DefinitionError(
      `${where}: Task '${name}' uses resource '${resource}', which the local Step Functions server cannot run; ` +
        `only ${LAMBDA_INVOKE} and Lambda function ARNs are supported (or register a handler under that exact resource ARN)`,
    );
  }
}

interface TaskEnv {
  /** The definition as written: prepareForRun defaults Task timeouts that AWS would not report. */
  declared: AslMachine;
  region: string;
  resolve: (ref: string) => LambdaHandler | undefined;
  recorder: HistoryRecorder;
  /** The handler of a Distributed Map state (distributed-map.ts). */
  distributed?: (stateName: string) => (input: unknown) => Promise<unknown>;
  /**
   * IAM for the invoke itself: AWS calls Lambda as the machine's role, which needs
   * lambda:InvokeFunction on the function. Returns AWS's AccessDenied message, or undefined.
   */
  invokeDenied?: (functionArn: string) => string | undefined;
}

type Kind = { integration: 'invoke' | 'function' | 'service'; resourceType: string; resource: string };

function kindOf(state: AslState): Kind {
  const resource = state.Resource ?? '';
  if (resource === LAMBDA_INVOKE) return { integration: 'invoke', resourceType: 'lambda', resource: 'invoke' };
  if (FUNCTION_ARN.test(resource)) return { integration: 'function', resourceType: 'lambda', resource };
  const service = SERVICE_ARN.exec(resource);
  return { integration: 'service', resourceType: service?.[1] ?? 'unknown', resource: service?.[2] ?? resource };
}

/** One library override per Task state, nested ones included (the library keys them by state name). */
export function buildTaskHandlers(machine: AslMachine, env: TaskEnv): Record<string, (input: unknown) => Promise<unknown>> {
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const declared = new Map(collectStates(env.declared).map(({ name, state }) => [name, state.TimeoutSeconds]));
  for (const { name, state } of collectStates(machine)) {
    if (state.Type !== 'Task') continue;
    if (state.Resource === DISTRIBUTED_MAP_RESOURCE && env.distributed) handlers[name] = env.distributed(name);
    else handlers[name] = (input) => runTask(name, state, declared.get(name), input, env);
  }
  return handlers;
}

// The library hands events to its async generator a few microtasks after dispatching them, but
// calls the Task override synchronously; one macrotask lets TaskStateEntered be recorded first.
const eventsDelivered = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function runTask(stateName: string, state: AslState, declaredTimeout: number | undefined, input: unknown, env: TaskEnv): Promise<unknown> {
  await eventsDelivered();
  if (env.recorder.sealed) throw new TaskFailure('Local.ExecutionClosed', 'The execution is no longer running');
  const kind = kindOf(state);
  const lambdaEvents = kind.integration === 'function';
  const timeoutSeconds = state.TimeoutSeconds ?? DEFAULT_TASK_TIMEOUT_SECONDS;
  const names = lambdaEvents
    ? { scheduled: 'LambdaFunctionScheduled', started: 'LambdaFunctionStarted', succeeded: 'LambdaFunctionSucceeded', failed: 'LambdaFunctionFailed', timedOut: 'LambdaFunctionTimedOut' }
    : { scheduled: 'TaskScheduled', started: 'TaskStarted', succeeded: 'TaskSucceeded', failed: 'TaskFailed', timedOut: 'TaskTimedOut' };
  const detailsKey = (type: string): string => `${type[0].toLowerCase()}${type.slice(1)}EventDetails`;
  const common = lambdaEvents ? {} : { resourceType: kind.resourceType, resource: kind.resource };
  const slot: TaskSlot = env.recorder.openTask(stateName, { type: names.timedOut, key: detailsKey(names.timedOut), details: common });
  // The history may hold back this state's Entered event (AWS's order, see HistoryRecorder): Task events follow it.
  await slot.ready;
  if (env.recorder.sealed) throw new TaskFailure('Local.ExecutionClosed', 'The execution is no longer running');
  // The library goes on starting queued Map iterations after one failed; AWS does not, so neither does the handler.
  if (env.recorder.abandoned(slot.lane)) throw new TaskFailure('Local.IterationAborted', 'The Map state had already failed');

  const params = (input ?? {}) as Record<string, unknown>;
  const ref = kind.integration === 'invoke' ? String(params.FunctionName ?? '') : (state.Resource as string);
  const payload = kind.integration === 'invoke' ? (params.Payload ?? {}) : input;
  const timeout = declaredTimeout !== undefined ? { timeoutInSeconds: declaredTimeout } : {};
  const scheduled = lambdaEvents
    ? { resource: ref, input: JSON.stringify(input ?? null), inputDetails: { truncated: false }, ...timeout }
    : { ...common, region: env.region, parameters: JSON.stringify(input ?? null), ...timeout };
  // AWS: a state's input after Parameters over the payload quota is States.DataLimitExceeded;
  // nothing is scheduled, and the execution fails right after the state's Entered event.
  if (exceedsPayloadLimit(input)) {
    slot.settled = true;
    throw new TerminalTaskFailure(DATA_LIMIT_ERROR, inputTooLargeCause(stateName));
  }
  env.recorder.recordTask(slot, names.scheduled, detailsKey(names.scheduled), scheduled);

  const fail = (error: string, cause: string, Failure = TaskFailure): TaskFailure => {
    env.recorder.recordTask(slot, names.failed, detailsKey(names.failed), { ...common, error, cause }, true);
    return new Failure(error, cause);
  };

  const handler = ref ? env.resolve(ref) : undefined;
  if (!handler) {
    // Same error name as AWS for a missing function, so the ASL's Catch behaves as it would there.
    throw fail('Lambda.ResourceNotFoundException', `Function not found: ${ref || '(no FunctionName)'} (no local handler is registered for it; the local Step Functions server never calls AWS)`);
  }
  const functionName = functionNameOf(ref);
  const functionArn = FUNCTION_ARN.test(ref) ? ref : `arn:aws:lambda:${env.region}:${ACCOUNT_ID}:function:${functionName}`;
  const denied = env.invokeDenied?.(functionArn);
  // As AWS words it: Lambda's 403 arrives as Lambda.AWSLambdaException, which a Retry on it retries.
  if (denied) throw fail('Lambda.AWSLambdaException', `${denied} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${randomUUID()}; Proxy: null)`);
  env.recorder.recordTask(slot, names.started, lambdaEvents ? undefined : detailsKey(names.started), common);

  const deadline = Date.now() + Math.min(timeoutSeconds, DEFAULT_TASK_TIMEOUT_SECONDS) * 1000;
  const awsRequestId = randomUUID();
  let value: unknown;
  // A handler cannot be cancelled, but the library's Task must stop waiting once the execution
  // closes (stop, timeout, server close): its 900 s timer would otherwise keep the process alive.
  const closed = env.recorder.closed.then(() => {
    throw new TaskFailure('Local.ExecutionClosed', 'The execution closed while the handler was running');
  });
  closed.catch(() => undefined);
  try {
    const invocation = handler(structuredClone(payload), {
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: functionArn,
      memoryLimitInMB: '128',
      awsRequestId,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    });
    const result = await Promise.race([invocation, closed]);
    // What crosses the Lambda boundary is JSON: undefined becomes null, Dates become strings, and
    // a result that cannot be serialised fails the invocation.
    value = JSON.parse(JSON.stringify(result ?? null));
  } catch (err) {
    if (env.recorder.sealed) throw err;
    const errorType = err instanceof Error ? err.name : 'Error';
    const errorMessage = err instanceof Error ? err.message : String(err);
    throw fail(errorType, JSON.stringify({ errorType, errorMessage, trace: [] }));
  }

  const output =
    kind.integration === 'invoke'
      ? {
          ExecutedVersion: '$LATEST',
          Payload: value,
          SdkHttpMetadata: { HttpHeaders: { 'Content-Type': 'application/json', 'x-amzn-RequestId': awsRequestId }, HttpStatusCode: 200 },
          SdkResponseMetadata: { RequestId: awsRequestId },
          StatusCode: 200,
        }
      : value;
  const text = JSON.stringify(output);
  if (Buffer.byteLength(text, 'utf8') > MAX_PAYLOAD_BYTES) {
    throw fail(DATA_LIMIT_ERROR, resultTooLargeCause(stateName), TerminalTaskFailure);
  }
  env.recorder.recordTask(slot, names.succeeded, detailsKey(names.succeeded), { ...common, output: text, outputDetails: { truncated: false } }, true);
  return output;
}
