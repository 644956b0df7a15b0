/**
 * The stack outputs, named after the CLI's variables (CloudFormation keys are alphanumeric:
 * with the id `Dsr`, `DsrLedgerTable` is DSR_LEDGER_TABLE), plus `<id>CliEnv`, a line to
 * `eval`, and the console's address. The logical ids are fixed so the names stay what the
 * documentation and scripts read, wherever the construct sits in the tree.
 */
import { CfnOutput, Fn } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { DsrConsole } from './console';
import { pascal } from './functions';

export function addCliOutputs(scope: Construct, id: string, cliEnvironment: Readonly<Record<string, string>>, policies: { readonly support: iam.ManagedPolicy; readonly auditor: iam.ManagedPolicy }): void {
  const prefix = outputPrefix(id);
  const output = (name: string, value: string, description: string) => {
    const out = new CfnOutput(scope, `Output${name}`, { value, description });
    out.overrideLogicalId(`${prefix}${name}`);
  };
  for (const [variable, value] of Object.entries(cliEnvironment)) {
    output(pascal(variable.toLowerCase().replace(/_/g, '-')).replace(/^Dsr/, ''), value, `${variable} for the dsr CLI`);
  }
  output('SupportPolicyArn', policies.support.managedPolicyArn, 'Managed policy for support staff (dsr start/plan/approve/status/hold/history)');
  output('AuditorPolicyArn', policies.auditor.managedPolicyArn, 'Managed policy for auditors (execution history and receipts, read only)');
  output(
    'CliEnv',
    Fn.join(' ', Object.entries(cliEnvironment).map(([k, v]) => Fn.join('', [`export ${k}=`, v, ';']))),
    'eval "$(aws cloudformation describe-stacks ... --query \'Stacks[0].Outputs[?OutputKey==`<id>CliEnv`].OutputValue\' --output text)"',
  );
}

export function addConsoleUrlOutput(scope: Construct, id: string, web: DsrConsole): void {
  new CfnOutput(scope, 'OutputConsoleUrl', { value: `https://${web.distribution.distributionDomainName}/`, description: 'The web console' }).overrideLogicalId(`${outputPrefix(id)}ConsoleUrl`);
}

function outputPrefix(id: string): string {
  return id.replace(/[^A-Za-z0-9]/g, '');
}
