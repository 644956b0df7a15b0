/**
 * `dsr demo` (`npm run demo`): a real request on the local engine, start to finish — start
 * the engine, seed the small reference dataset, run an access request and an erasure for one
 * subject, a consent withdrawal and an objection, one retention-enforcement run, and say where
 * to look next.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { REPO_ROOT } from '../../local/engine';
import { readEngineState } from '../../local/state';
import { receiptForRequest } from '../../functions/core/receipt';
import type { Printer } from '../context';
import { withClients } from '../executions';

interface ReferenceSubject {
  subjectId: string;
  flags?: { fraudInvestigation?: boolean; legalHeldMedia?: boolean; deactivated?: boolean };
}

/** Per store, what the erasure decided and did, from its receipt (where the receipt lives, too). */
async function printErasureSummary(printer: Printer, requestId: string): Promise<void> {
  await withClients({}, async (c) => {
    const stored = await receiptForRequest(c, requestId);
    if (!stored) return;
    const receipt = JSON.parse(stored.body) as { decisions: Record<string, Record<string, number>>; applied: Record<string, Record<string, number>> };
    printer.out(`\n▶ summary of ${requestId} (receipt #${stored.sequence} in ledger table ${c.deployment.ledgerTable}, sha256 ${stored.hash.slice(0, 16)}…)`);
    printer.out(`  ${'store'.padEnd(16)} ${'decisions'.padEnd(46)} applied`);
    for (const [store, decisions] of Object.entries(receipt.decisions)) {
      const show = (counts: Record<string, number> | undefined) =>
        Object.entries(counts ?? {})
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ') || '—';
      printer.out(`  ${store.padEnd(16)} ${show(decisions).padEnd(46)} ${show(receipt.applied[store])}`);
    }
  });
}

export function demoCommand(printer: Printer, run: (argv: string[]) => Promise<number>): Command {
  return new Command('demo')
    .description('start the local engine, seed the small reference dataset, run an access request and an erasure')
    .option('--data <dir>', 'engine directory', path.join(REPO_ROOT, '.dsr/demo'))
    .option('--stop', 'stop the engine at the end')
    .action(async (opts: { data: string; stop?: boolean }) => {
      const started = Date.now();
      const dataDir = path.resolve(opts.data);
      const step = async (title: string, argv: string[]) => {
        printer.out(`\n▶ ${title}\n  $ npx dsr ${argv.join(' ')}`);
        const code = await run(argv);
        if (code !== 0) throw new Error(`step failed (exit ${code}): dsr ${argv.join(' ')}`);
      };
      if (!readEngineState(dataDir)) await step('start the local engine (DynamoDB Local, S3, Step Functions)', ['local', 'up', '--data', dataDir, '--detach']);
      const subjectsFile = path.join(dataDir, 'reference/subjects.json');
      if (!fs.existsSync(subjectsFile)) await step('seed the small reference dataset of the VoIP operator', ['local', 'seed', '--data', dataDir, '--scale', 'small', '--seed', '1']);
      const reference = JSON.parse(fs.readFileSync(subjectsFile, 'utf8')) as { subjects: ReferenceSubject[] };
      const subject = reference.subjects.find((s) => !s.flags?.fraudInvestigation && !s.flags?.legalHeldMedia) ?? reference.subjects[0];
      const suffix = Date.now().toString(36);
      const verification = ['--verified-by', 'demo-agent', '--verification-method', 'account-login', '--verification-ref', `DEMO-${suffix}`];
      const common = ['--subject', subject.subjectId, ...verification, '--wait', '--data', dataDir];
      await step('access request: what do you hold about me?', ['start', '--type', 'access', '--request-id', `demo-access-${suffix}`, ...common]);
      const bundleFile = path.join(dataDir, `demo-portability-${suffix}.zip`);
      await step('portability request: my data, machine-readable', ['start', '--type', 'portability', '--request-id', `demo-portability-${suffix}`, ...common]);
      await step('download the bundle (a BagIt ZIP)', ['bundle', `demo-portability-${suffix}`, '--out', bundleFile, '--data', dataDir]);
      await step('verify the bundle: manifests, hashes, JSON schemas', ['bundle', 'verify', bundleFile]);
      await step('withdraw consent to marketing and analytics: only the mapped attributes change', ['start', '--type', 'withdraw-consent', '--purposes', 'marketing,analytics', '--request-id', `demo-consent-${suffix}`, ...common]);
      await step('object to fraud prevention: refused, with the basis that overrides the objection', ['start', '--type', 'objection', '--purposes', 'fraud-prevention', '--request-id', `demo-objection-${suffix}`, ...common]);
      await step('erasure request', ['start', '--type', 'erasure', '--request-id', `demo-erasure-${suffix}`, ...common]);
      await step('the audit trail of the erasure', ['history', `demo-erasure-${suffix}`, '--data', dataDir]);
      // No request: the schedule's own limits (accounts 2 years after deactivation, CDRs 12 months, ...).
      await step('retention enforcement: erase and purge what is past its limit, holds kept', ['retention', 'enforce', '--wait', '--data', dataDir]);
      await step('what enforcement found, did and kept, per store and limit', ['retention', 'report', '--data', dataDir]);
      await step('the receipt chain', ['receipt', 'verify', '--data', dataDir]);
      await step('requests by statutory deadline (received, due, days left; no subject ids)', ['requests', '--data', dataDir]);
      await printErasureSummary(printer, `demo-erasure-${suffix}`);
      printer.out(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. The portability bundle: ${bundleFile}`);
      printer.out(`The engine keeps running with its data in ${dataDir}:`);
      printer.out(`  npx dsr history demo-erasure-${suffix} --data ${dataDir}        # the audit trail`);
      printer.out(`  npx dsr receipt demo-erasure-${suffix} --data ${dataDir}        # the receipt (--html FILE: a page to file)`);
      printer.out(`  npx dsr console --data ${dataDir}                      # the web console (prints its URL and two users)`);
      printer.out(`  eval "$(cat ${path.join(dataDir, 'endpoints.env')})"; aws --endpoint-url "$AWS_ENDPOINT_URL_S3" s3api list-object-versions --bucket voip-media`);
      if (opts.stop) await step('stop the engine', ['local', 'down', '--data', dataDir]);
      else printer.out(`  npx dsr local down --data ${dataDir}                         # stop it`);
    });
}
