/**
 * `dsr plan|approve|reject`: review the plan an erasure waits with, then approve exactly that
 * plan (by its hash) or reject it; plan again on request (`--replan`). Every approval and
 * rejection is a receipt in the chain.
 */
import { Command } from 'commander';
import type { RequestRecord } from '../../functions/core/ledger';
import { executionName } from '../../functions/core/request';
import { attemptExecutionName } from '../../functions/core/validation';
import { approvePlan, rejectPlan, storedPlan, type StoredPlanView } from '../operations/approval';
import { CliError, EXIT, type Printer } from '../context';
import { decisionLine, requireRequest, startExecution, waitAndReport, withClients } from '../executions';
import { waitForExecution } from '../progress';

// Other modules imported these from here before they moved.
export { storedPlan, type StoredPlanView } from '../operations/approval';

export function printPlan(printer: Printer, type: string, view: StoredPlanView): void {
  printer.out(`plan ${view.planHash}${view.awaitingApproval ? ' (awaiting approval)' : ''}${view.createdAt ? `, made ${view.createdAt}` : ''}`);
  printer.out(`  totals: ${decisionLine(type, view.totals)}`);
  for (const s of view.stores) {
    const total = Object.entries(s.counts).filter(([k]) => k !== 'third-party').reduce((a, [, n]) => a + n, 0);
    printer.out(`  ${s.store}: ${total === 0 ? 'nothing found' : decisionLine(type, s.counts)}`);
    for (const r of s.rows ?? []) {
      const due = r.firstDue ? (r.firstDue === r.lastDue ? `, due ${r.firstDue.slice(0, 10)}` : `, due ${r.firstDue.slice(0, 10)} to ${r.lastDue!.slice(0, 10)}`) : '';
      printer.out(`    ${String(r.count).padStart(6)}  ${r.decision.padEnd(12)} basis ${r.basis}${r.role === 'third-party' ? ' (third-party records)' : ''}${due}`);
    }
  }
}

export function approvalCommands(printer: Printer, setExit: (code: number) => void): Command[] {
  const plan = new Command('plan')
    .description('show the plan stored for a request (the one awaiting approval); --replan plans again, and the new plan is the one to review')
    .argument('<requestId>')
    .option('--replan', 'discover and decide again (after a hold changed, or a rejection); nothing is changed in the stores')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long to wait for a new plan', (v) => Number(v), 900)
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { replan?: boolean; json?: boolean; timeout: number; data?: string }) =>
      withClients(opts, async (c) => {
        let record = await requireRequest(c, requestId);
        if (record.request.type === 'rectification') throw new CliError(`request ${requestId} is a rectification: a person handles it, there is nothing to plan`);
        let executionStatus: string | undefined;
        if (opts.replan || !record.planHash) {
          const input = { requestId, requestHash: record.requestHash, mode: 'plan' as const };
          // The first plan keeps the plain name; each later one gets a name of its own.
          const names = opts.replan && record.planHash ? [attemptExecutionName(input, Date.now().toString(36))] : [executionName(input)];
          const arn = await startExecution(c, input, names);
          const execution = await waitForExecution(c, arn, opts.timeout, printer, !opts.json);
          executionStatus = execution.status;
          if (execution.status !== 'SUCCEEDED') {
            printer.out(opts.json ? JSON.stringify({ requestId, status: execution.status, error: execution.error ?? null, cause: execution.cause ?? null, plan: null }) : `planning ${execution.status?.toLowerCase()}: ${execution.error ?? ''}${execution.cause ? `: ${execution.cause}` : ''} (see npx dsr history ${requestId})`);
            return setExit(execution.error === 'RequestRefused' ? EXIT.refused : EXIT.failed);
          }
          const output = JSON.parse(execution.output ?? '{}') as { plan?: { planHash?: string } };
          record = await requireRequest(c, requestId);
          if (output.plan?.planHash && output.plan.planHash !== record.planHash) {
            // A dry run of a request whose plan is not under review leaves the request alone.
            const view = await storedPlan(c, record, output.plan.planHash);
            return showPlan(printer, requestId, record, view, executionStatus, opts.json);
          }
        }
        const view = record.planHash ? await storedPlan(c, record, record.planHash) : undefined;
        showPlan(printer, requestId, record, view, executionStatus, opts.json);
      }),
    );

  const approve = new Command('approve')
    .description('approve the plan `dsr plan` shows (by its hash) and apply it')
    .argument('<requestId>')
    .requiredOption('--approved-by <who>', 'your staff id (kept in the ledger; the approval\'s receipt carries its hash)')
    .option('--plan-hash <hash>', 'the plan hash you reviewed (default: the plan awaiting approval)')
    .option('--wait', 'wait for the erasure to end')
    .option('--json', 'print one JSON object')
    .option('--timeout <seconds>', 'how long --wait waits', (v) => Number(v), 900)
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { approvedBy: string; planHash?: string; wait?: boolean; json?: boolean; timeout: number; data?: string }) =>
      withClients(opts, async (c) => {
        const { planHash, executionArn: arn, receipt } = await approvePlan(c, requestId, { approvedBy: opts.approvedBy, planHash: opts.planHash });
        if (!opts.wait) {
          return printer.out(
            opts.json
              ? JSON.stringify({ requestId, planHash, executionArn: arn, status: 'started', receipt: { sequence: receipt.sequence, hash: receipt.hash } })
              : `approved plan ${planHash} (receipt #${receipt.sequence}); started ${arn}`,
          );
        }
        setExit(await waitAndReport(c, requestId, arn, opts, printer));
      }),
    );

  const reject = new Command('reject')
    .description('reject the plan awaiting approval: nothing is applied; plan again with `dsr plan --replan`')
    .argument('<requestId>')
    .requiredOption('--rejected-by <who>', 'your staff id (kept in the ledger; the rejection\'s receipt carries its hash)')
    .requiredOption('--reference <ref>', 'the ticket or case that says why (goes in the receipt; no personal values)')
    .option('--plan-hash <hash>', 'the plan hash you reviewed (default: the plan awaiting approval)')
    .option('--json', 'print one JSON object')
    .option('--data <dir>', 'a local engine\'s directory')
    .action(async (requestId: string, opts: { rejectedBy: string; reference: string; planHash?: string; json?: boolean; data?: string }) =>
      withClients(opts, async (c) => {
        const { planHash, receipt } = await rejectPlan(c, requestId, opts);
        const result = { requestId, status: 'rejected', planHash, receipt: { sequence: receipt.sequence, hash: receipt.hash } };
        printer.out(opts.json ? JSON.stringify(result) : `rejected plan ${planHash} (receipt #${receipt.sequence} sha256 ${receipt.hash})\nnext: npx dsr plan ${requestId} --replan`);
      }),
    );
  return [plan, approve, reject];
}

function showPlan(printer: Printer, requestId: string, record: RequestRecord, view: StoredPlanView | undefined, executionStatus: string | undefined, json: boolean | undefined): void {
  if (json) return printer.out(JSON.stringify({ requestId, status: record.status, execution: executionStatus ?? null, plan: view ?? null }));
  if (!view) return printer.out(`request ${requestId} (${record.status}) has no stored plan; plan it with: npx dsr plan ${requestId} --replan`);
  printer.out(`request ${requestId} (${record.request.type}): ${record.status}`);
  printPlan(printer, record.request.type, view);
  if (view.awaitingApproval) {
    printer.out(`next: npx dsr approve ${requestId} --approved-by YOU --plan-hash ${view.planHash.slice(0, 12)}  (or npx dsr reject ${requestId} --rejected-by YOU --reference REF)`);
  }
}
