/** `dsr start|status|resume`: support's commands to record a request, follow it and finish it. */
import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, type ExecutionListItem } from '@aws-sdk/client-sfn';
import { Command } from 'commander';
import { CancelRefusedError, reopenCancelled } from '../../functions/core/cancel';
import type { RequestRecord } from '../../functions/core/ledger';
import { isResumable } from '../../functions/core/validation';
import { executionName } from '../../functions/core/request';
import { isConsentType } from '../../functions/core/purposes';

const isResumableType = (type: string) => type === 'erasure' || isConsentType(type);
import { newRequest, startRequest, type FieldNames } from '../operations/start';
import { CliError, type Clients, type Printer } from '../context';
import { executionArn, modeOfExecution, printSummary, requestExecutions, requireRequest, startExecution, summarize, waitAndReport, withClients } from '../executions';

// Other modules imported these from here before they moved.
export { executionArn, startExecution, summarize, withClients } from '../executions';
export { waitForExecution } from '../progress';

interface StartOptions {
  type: string;
  subject: string;
  requestId: string;
  verifiedBy?: string;
  verificationMethod?: string;
  verificationRef?: string;
  verifiedAt?: string;
  receivedAt?: string;
  jurisdiction?: string;
  purposes?: string;
  wait?: boolean;
  json?: boolean;
  timeout: number;
  data?: string;
}

const CLI_NAMES: FieldNames = {
  type: '--type',
  subject: '--subject',
  requestId: '--request-id',
  verifiedBy: '--verified-by',
  verificationMethod: '--verification-method',
  verificationRef: '--verification-ref',
  verifiedAt: '--verified-at',
  receivedAt: '--received-at',
  jurisdiction: '--jurisdiction',
  purposes: '--purposes',
};

function startOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--type <type>', 'access | portability | erasure | restriction | rectification (recorded and routed to a person) | withdraw-consent | objection')
    .requiredOption('--subject <id>', 'the verified subject id (stored in the ledger only)')
    .requiredOption('--request-id <id>', 'unique request id; also the execution name (idempotency key)')
    .option('--verified-by <who>', 'who verified the subject\'s identity')
    .option('--verification-method <method>', 'how (e.g. id-document, account-login, callback)')
    .option('--verification-ref <ref>', 'the verification\'s reference (ticket, case number)')
    .option('--verified-at <iso>', 'when it was verified (default: now)')
    .option('--received-at <iso>', 'when the request was received, if before now (its deadline counts from then; default: now)')
    .option('--purposes <list>', 'withdraw-consent and objection: the purposes, comma-separated (e.g. marketing,analytics), as the data map names them')
    .option('--jurisdiction <code>', 'whose law sets the response period, e.g. CA or CA-QC (default: the deployment\'s)')
    .option('--wait', 'wait for the execution to end')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long --wait waits', (v) => Number(v), 900)
    .option('--data <dir>', 'a local engine\'s directory (instead of the exported variables)');
}

export function requestCommands(printer: Printer, setExit: (code: number) => void): Command[] {
  const start = startOptions(new Command('start').description('record a verified request and start its execution')).action(async (opts: StartOptions) =>
    withClients(opts, async (c) => {
      const { record, executionArn: arn } = await startRequest(c, newRequest(opts, CLI_NAMES), 'run', opts.verifiedAt === undefined);
      if (!opts.wait) {
        if (opts.json) printer.out(JSON.stringify({ requestId: record.request.requestId, executionArn: arn, status: 'started' }));
        else printer.out(`started ${arn}\nfollow it with: npx dsr status ${record.request.requestId} · npx dsr history ${record.request.requestId}`);
        return;
      }
      setExit(await waitAndReport(c, record.request.requestId, arn, opts, printer));
    }),
  );

  const status = new Command('status')
    .description('where a request stands')
    .argument('<requestId>')
    .option('--json', 'print one JSON object')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { json?: boolean; data?: string }) =>
      withClients(opts, async (c) => {
        await requireRequest(c, requestId);
        const execution = await c.sfn.send(new DescribeExecutionCommand({ executionArn: latestExecution(await requestExecutions(c, requestId), requestId) ?? executionArn(c.deployment.stateMachineArn, requestId) }));
        const { summary } = await summarize(c, requestId, execution);
        printSummary(printer, summary, opts.json);
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
  return [start, status, resume];
}

/** The execution that last changed the request: its latest run, apply or lift (plans change nothing), else its latest plan. */
function latestExecution(executions: readonly ExecutionListItem[], requestId: string): string | undefined {
  const changing = executions.filter((e) => modeOfExecution(requestId, e.name ?? '') !== 'plan');
  return (changing[changing.length - 1] ?? executions[executions.length - 1])?.executionArn;
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
async function resumeExecution(c: Clients, given: RequestRecord): Promise<string> {
  let record = given;
  const { requestId } = record.request;
  if (record.status === 'cancelled') {
    // A cancelled erasure is finished by its resume (functions/core/cancel.ts: reopenCancelled).
    try {
      await reopenCancelled(c, record, new Date());
    } catch (err) {
      if (err instanceof CancelRefusedError) throw new CliError(err.message);
      throw err;
    }
    record = await requireRequest(c, requestId);
  }
  if (!isResumableType(record.request.type)) throw new CliError(`request ${requestId} is a${record.request.type === 'access' ? 'n' : ''} ${record.request.type} request: only an erasure, a withdrawal of consent or an objection is resumed`);
  const latest = await latestResume(c, requestId);
  if (latest?.status === 'RUNNING') return latest.executionArn!;
  for (const other of [requestId, executionName({ requestId, mode: 'apply' })]) {
    if ((await describeIfAny(c, other))?.status === 'RUNNING') throw new CliError(`request ${requestId} is still running (${other}); resume it once it has ended`);
  }
  if (record.status === 'completed') throw new CliError(`request ${requestId} is completed: nothing is left to resume`);
  if (!isResumable(record) || record.status === 'running') throw new CliError(`request ${requestId} is ${record.status}${record.reason ? ` (${record.reason})` : ''}: only a failed ${record.request.type === 'erasure' ? 'erasure' : `${record.request.type} request`} is resumed`);
  const attempt = (latest?.attempt ?? 0) + 1;
  if (attempt > MAX_RESUMES) throw new CliError(`request ${requestId} was resumed ${MAX_RESUMES} times; look at why it fails (dsr history) first`);
  return startExecution(c, { requestId, requestHash: record.requestHash, mode: 'resume' }, [executionName({ requestId, mode: 'resume' }, attempt)]);
}
