/** `dsr start|plan|approve|status|resume`: support's commands for one request. */
import { DescribeExecutionCommand, ExecutionAlreadyExists, StartExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { appendReceipt } from '../../functions/core/receipt';
import { InvalidInputError } from '../../functions/core/errors';
import type { RequestRecord } from '../../functions/core/ledger';
import { getReceipt, receiptForRequest } from '../../functions/core/receipt';
import { createRequest, executionName, RequestIdSchema, sameRequest, type ExecutionInput, type NewSubjectRequest } from '../../functions/core/request';
import { isResumable } from '../../functions/core/validation';
import { CliError, clientsFor, deploymentFromEnv, EXIT, loadLocalEnv, type Clients, type Printer } from '../context';
import { lastStateName } from './history';

interface StartOptions {
  type: string;
  subject: string;
  requestId: string;
  verifiedBy?: string;
  verificationMethod?: string;
  verificationRef?: string;
  verifiedAt?: string;
  wait?: boolean;
  json?: boolean;
  timeout: number;
  data?: string;
}

export function executionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

export function withClients<T>(opts: { data?: string }, fn: (c: Clients) => Promise<T>): Promise<T> {
  if (opts.data) loadLocalEnv(opts.data);
  const clients = clientsFor(deploymentFromEnv());
  return fn(clients).finally(() => clients.close());
}

function newRequest(opts: StartOptions): NewSubjectRequest {
  const given = [opts.verifiedBy, opts.verificationMethod, opts.verificationRef].filter((v) => v !== undefined).length;
  if (given > 0 && given < 3) throw new CliError('a verification needs all of --verified-by, --verification-method and --verification-ref');
  if (!RequestIdSchema.safeParse(opts.requestId).success) throw new CliError(`--request-id: ${RequestIdSchema.safeParse(opts.requestId).error?.issues[0]?.message}`);
  return {
    requestId: opts.requestId,
    subjectId: opts.subject,
    type: opts.type as NewSubjectRequest['type'],
    verification:
      given === 3
        ? { method: opts.verificationMethod!, verifiedBy: opts.verifiedBy!, reference: opts.verificationRef!, verifiedAt: opts.verifiedAt ?? new Date().toISOString() }
        : undefined,
  };
}

/** Stores the request (or finds the identical one) and starts — or rejoins — its execution. */
async function startRequest(c: Clients, input: NewSubjectRequest, mode: ExecutionInput['mode'], verifiedAtDefaulted: boolean): Promise<{ record: RequestRecord; executionArn: string }> {
  let request;
  try {
    request = createRequest(input, new Date());
  } catch (err) {
    if (err instanceof InvalidInputError) throw new CliError(err.message);
    throw err;
  }
  const record = await c.ledger.putRequest(request, new Date(), (existing) => sameRequest(existing, input, { verifiedAtDefaulted }));
  const started = await startExecution(c, { requestId: record.request.requestId, requestHash: record.requestHash, mode });
  return { record, executionArn: started };
}

export async function startExecution(c: Clients, input: ExecutionInput, name = executionName(input)): Promise<string> {
  try {
    const out = await c.sfn.send(new StartExecutionCommand({ stateMachineArn: c.deployment.stateMachineArn, name, input: JSON.stringify(input) }));
    return out.executionArn!;
  } catch (err) {
    if (!(err instanceof ExecutionAlreadyExists)) throw err;
    // AWS answers this for a closed execution even with the same input: the request already
    // ran, and starting it again must not erase twice. Same input: rejoin it; else refuse.
    const arn = executionArn(c.deployment.stateMachineArn, name);
    const existing = await c.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    if (existing.input && JSON.stringify(JSON.parse(existing.input)) === JSON.stringify(input)) return arn;
    throw new CliError(`request ${input.requestId} was already started with a different input (${input.mode}); use a new request id`);
  }
}

export async function waitForExecution(c: Clients, arn: string, timeoutSeconds: number, printer: Printer, progress: boolean): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let shown = '';
  for (;;) {
    const out = await c.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    if (out.status !== 'RUNNING' && out.status !== 'PENDING_REDRIVE') return out;
    if (progress) {
      const state = await lastStateName(c, arn);
      if (state && state !== shown) {
        printer.err(`  … ${state}`);
        shown = state;
      }
    }
    if (Date.now() > deadline) throw new CliError(`still running after ${timeoutSeconds} s: ${arn}`, EXIT.timeout);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The summary `--json` prints and the exit code it implies. */
export async function summarize(c: Clients, requestId: string, execution: DescribeExecutionCommandOutput) {
  const record = await c.ledger.getRequest(requestId);
  // The latest receipt of the request (a resume's, after it): the ledger names it.
  const sequence = /^receipt\/(\d+)$/.exec(record?.receiptKey ?? '')?.[1];
  const rt = { dynamodb: c.dynamodb, ledger: c.ledger };
  const receipt = (sequence ? await getReceipt(rt, Number(sequence)) : undefined) ?? (await receiptForRequest(rt, requestId));
  const body = receipt ? (JSON.parse(receipt.body) as Record<string, unknown>) : undefined;
  const summary = {
    requestId,
    type: record?.request.type,
    status: record?.status ?? 'unknown',
    execution: { arn: execution.executionArn, status: execution.status, error: execution.error ?? null, cause: execution.cause ?? null },
    reason: record?.reason ?? null,
    planHash: record?.planHash ?? null,
    counts: body ? { totals: body.totals, decisions: body.decisions, applied: body.applied, exported: body.exported, verification: body.verification } : null,
    bundle: body?.bundle ?? null,
    receipt: receipt ? { sequence: receipt.sequence, hash: receipt.hash } : null,
  };
  const exitCode =
    execution.status === 'SUCCEEDED' ? EXIT.ok : execution.error === 'RequestRefused' ? EXIT.refused : EXIT.failed;
  return { summary, exitCode };
}

/** Waits for the execution, prints its summary, and returns the exit code it implies. */
async function waitAndReport(c: Clients, requestId: string, arn: string, opts: { timeout: number; json?: boolean }, printer: Printer): Promise<number> {
  const execution = await waitForExecution(c, arn, opts.timeout, printer, !opts.json);
  const { summary, exitCode } = await summarize(c, requestId, execution);
  printSummary(printer, summary, opts.json);
  return exitCode;
}

function printSummary(printer: Printer, summary: Awaited<ReturnType<typeof summarize>>['summary'], json: boolean | undefined) {
  if (json) return printer.out(JSON.stringify(summary));
  printer.out(`request ${summary.requestId} (${summary.type}): ${summary.status}${summary.reason ? ` — ${summary.reason}` : ''}`);
  printer.out(`  execution ${summary.execution.status}${summary.execution.error ? ` (${summary.execution.error}: ${summary.execution.cause})` : ''}`);
  if (summary.planHash) printer.out(`  plan ${summary.planHash}`);
  const totals = summary.counts?.totals as Record<string, number> | undefined;
  if (totals) printer.out(`  decisions: ${Object.entries(totals).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'nothing found'}`);
  if (summary.receipt) printer.out(`  receipt #${summary.receipt.sequence} sha256 ${summary.receipt.hash}`);
}

function startOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--type <type>', 'access | portability | erasure | restriction | rectification (recorded and routed to a person)')
    .requiredOption('--subject <id>', 'the verified subject id (stored in the ledger only)')
    .requiredOption('--request-id <id>', 'unique request id; also the execution name (idempotency key)')
    .option('--verified-by <who>', 'who verified the subject\'s identity')
    .option('--verification-method <method>', 'how (e.g. id-document, account-login, callback)')
    .option('--verification-ref <ref>', 'the verification\'s reference (ticket, case number)')
    .option('--verified-at <iso>', 'when it was verified (default: now)')
    .option('--wait', 'wait for the execution to end')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long --wait waits', (v) => Number(v), 900)
    .option('--data <dir>', 'a local engine\'s directory (instead of the exported variables)');
}

export function requestCommands(printer: Printer, setExit: (code: number) => void): Command[] {
  const start = startOptions(new Command('start').description('record a verified request and start its execution')).action(async (opts: StartOptions) =>
    withClients(opts, async (c) => {
      const { record, executionArn: arn } = await startRequest(c, newRequest(opts), 'run', opts.verifiedAt === undefined);
      if (!opts.wait) {
        if (opts.json) printer.out(JSON.stringify({ requestId: record.request.requestId, executionArn: arn, status: 'started' }));
        else printer.out(`started ${arn}\nfollow it with: npx dsr status ${record.request.requestId} · npx dsr history ${record.request.requestId}`);
        return;
      }
      setExit(await waitAndReport(c, record.request.requestId, arn, opts, printer));
    }),
  );

  const plan = new Command('plan')
    .description('dry run: discover and decide for a stored request, store the plan, change nothing')
    .argument('<requestId>')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long to wait', (v) => Number(v), 900)
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { json?: boolean; timeout: number; data?: string }) =>
      withClients(opts, async (c) => {
        const record = await requireRequest(c, requestId);
        if (record.request.type === 'rectification') throw new CliError(`request ${requestId} is a rectification: a person handles it, there is nothing to plan`);
        const arn = await startExecution(c, { requestId, requestHash: record.requestHash, mode: 'plan' });
        const execution = await waitForExecution(c, arn, opts.timeout, printer, !opts.json);
        const output = execution.output ? (JSON.parse(execution.output) as { plan?: unknown }) : {};
        const result = { requestId, status: execution.status, plan: output.plan ?? null };
        printer.out(opts.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
        setExit(execution.status === 'SUCCEEDED' ? EXIT.ok : execution.error === 'RequestRefused' ? EXIT.refused : EXIT.failed);
      }),
    );

  const approve = new Command('approve')
    .description('approve the stored plan of an erasure and apply it')
    .argument('<requestId>')
    .requiredOption('--approved-by <who>', 'who approves')
    .option('--plan-hash <hash>', 'the plan hash you reviewed (default: the stored plan)')
    .option('--wait', 'wait for the erasure to end')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long --wait waits', (v) => Number(v), 900)
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { approvedBy: string; planHash?: string; wait?: boolean; json?: boolean; timeout: number; data?: string }) =>
      withClients(opts, async (c) => {
        const record = await requireRequest(c, requestId);
        const planHash = opts.planHash ?? record.planHash;
        if (!planHash) throw new CliError(`request ${requestId} has no stored plan to approve`);
        try {
          await c.ledger.approve(requestId, planHash, opts.approvedBy, new Date());
        } catch (err) {
          if (err instanceof InvalidInputError) throw new CliError(err.message);
          throw err;
        }
        const arn = await startExecution(c, { requestId, requestHash: record.requestHash, mode: 'apply', planHash });
        if (!opts.wait) return printer.out(opts.json ? JSON.stringify({ requestId, executionArn: arn, status: 'started' }) : `approved plan ${planHash}; started ${arn}`);
        setExit(await waitAndReport(c, requestId, arn, opts, printer));
      }),
    );

  const status = new Command('status')
    .description('where a request stands')
    .argument('<requestId>')
    .option('--json', 'print one JSON object')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { json?: boolean; data?: string }) =>
      withClients(opts, async (c) => {
        const record = await requireRequest(c, requestId);
        const name = record.status === 'approved' || record.approval ? executionName({ requestId, mode: 'apply' }) : requestId;
        // A resumed request stands where its latest resume left it.
        const execution = (await latestResume(c, requestId)) ?? (await c.sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(c.deployment.stateMachineArn, name) })));
        const { summary } = await summarize(c, requestId, execution);
        printSummary(printer, summary, opts.json);
      }),
    );
  const lift = new Command('lift-restriction')
    .description('lift the restriction a restriction request placed: every record it marked is unmarked')
    .argument('<requestId>', 'the restriction request')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long to wait', (v) => Number(v), 900)
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { json?: boolean; timeout: number; data?: string }) =>
      withClients(opts, async (c) => {
        const record = await requireRequest(c, requestId);
        if (record.request.type !== 'restriction') throw new CliError(`request ${requestId} is a${record.request.type === 'access' ? 'n' : ''} ${record.request.type} request, not a restriction`);
        const arn = await startExecution(c, { requestId, requestHash: record.requestHash, mode: 'lift' });
        setExit(await waitAndReport(c, requestId, arn, opts, printer));
      }),
    );
  const rectification = new Command('rectification').description('rectification requests, which a person carries out');
  rectification
    .command('done')
    .description('record that the person routed a rectification has made the correction: a receipt (with your reference) closes it')
    .argument('<requestId>', 'the rectification request')
    .requiredOption('--by <who>', 'who made the correction (kept in the ledger, not in the receipt)')
    .requiredOption('--reference <ref>', 'the ticket or case of the correction (goes in the receipt)')
    .option('--json', 'print one JSON object')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { by: string; reference: string; json?: boolean; data?: string }) =>
      withClients(opts, async (c) => {
        const record = await requireRequest(c, requestId);
        if (record.request.type !== 'rectification') throw new CliError(`request ${requestId} is a${record.request.type === 'access' ? 'n' : ''} ${record.request.type} request, not a rectification`);
        if (record.status !== 'routed-to-person') throw new CliError(`request ${requestId} is ${record.status}, not routed to a person (start it, and let it finish, first)`);
        const now = new Date();
        // A receipt of its own, chained after the routing receipt (one receipt per id).
        const receipt = await appendReceipt(c, {
          receiptVersion: 1,
          kind: 'request',
          id: `${requestId}--rectified`,
          requestId,
          type: 'rectification',
          outcome: 'rectified-by-person',
          reference: opts.reference,
          completedAt: now.toISOString(),
        });
        await c.ledger.setStatus(requestId, 'completed', now, { receiptKey: `receipt/${receipt.sequence}`, reason: `rectified by ${opts.by}` });
        const result = { requestId, status: 'completed', receipt: { sequence: receipt.sequence, hash: receipt.hash } };
        printer.out(opts.json ? JSON.stringify(result) : `rectification ${requestId} recorded as done: receipt #${receipt.sequence} sha256 ${receipt.hash}`);
      }),
    );
  const resume = new Command('resume')
    .description('finish a failed erasure: erase what is left of the subject, with the identity the request resolved (the account record may be gone)')
    .argument('<requestId>', 'the failed erasure request')
    .option('--wait', 'wait for the resume to end')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long --wait waits', (v) => Number(v), 900)
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { wait?: boolean; json?: boolean; timeout: number; data?: string }) =>
      withClients(opts, async (c) => {
        const record = await requireRequest(c, requestId);
        const arn = await resumeExecution(c, record);
        if (!opts.wait) return printer.out(opts.json ? JSON.stringify({ requestId, executionArn: arn, status: 'started' }) : `resuming ${requestId}: started ${arn}`);
        setExit(await waitAndReport(c, requestId, arn, opts, printer));
      }),
    );
  return [start, plan, approve, status, lift, rectification, resume];
}

async function requireRequest(c: Clients, requestId: string): Promise<RequestRecord> {
  const record = await c.ledger.getRequest(requestId);
  if (!record) throw new CliError(`no request ${requestId} in the ledger`);
  return record;
}

async function describeIfAny(c: Clients, name: string): Promise<DescribeExecutionCommandOutput | undefined> {
  try {
    return await c.sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(c.deployment.stateMachineArn, name) }));
  } catch (err) {
    if ((err as { name?: string }).name === 'ExecutionDoesNotExist') return undefined;
    throw err;
  }
}

/** The request's latest resume execution (`<requestId>--resume-<n>`, highest n), if it was resumed. */
async function latestResume(c: Clients, requestId: string): Promise<(DescribeExecutionCommandOutput & { attempt: number }) | undefined> {
  let latest: (DescribeExecutionCommandOutput & { attempt: number }) | undefined;
  for (let attempt = 1; attempt <= MAX_RESUMES; attempt++) {
    const found = await describeIfAny(c, executionName({ requestId, mode: 'resume' }, attempt));
    if (!found) return latest;
    latest = { ...found, attempt };
  }
  return latest;
}

const MAX_RESUMES = 9999;

/**
 * Starts the next resume of a failed erasure (`<requestId>--resume-<n>`), or rejoins the one
 * running. Refused while any execution of the request runs: two runs would race on its records.
 */
async function resumeExecution(c: Clients, record: RequestRecord): Promise<string> {
  const { requestId } = record.request;
  if (record.request.type !== 'erasure') throw new CliError(`request ${requestId} is a${record.request.type === 'access' ? 'n' : ''} ${record.request.type} request: only an erasure is resumed`);
  const latest = await latestResume(c, requestId);
  if (latest?.status === 'RUNNING') return latest.executionArn!;
  for (const other of [requestId, executionName({ requestId, mode: 'apply' })]) {
    if ((await describeIfAny(c, other))?.status === 'RUNNING') throw new CliError(`request ${requestId} is still running (${other}); resume it once it has ended`);
  }
  if (record.status === 'completed') throw new CliError(`request ${requestId} is completed: nothing is left to resume`);
  if (!isResumable(record) || record.status === 'running') throw new CliError(`request ${requestId} is ${record.status}${record.reason ? ` (${record.reason})` : ''}: only a failed erasure is resumed`);
  const attempt = (latest?.attempt ?? 0) + 1;
  if (attempt > MAX_RESUMES) throw new CliError(`request ${requestId} was resumed ${MAX_RESUMES} times; look at why it fails (dsr history) first`);
  return startExecution(c, { requestId, requestHash: record.requestHash, mode: 'resume' }, executionName({ requestId, mode: 'resume' }, attempt));
}
