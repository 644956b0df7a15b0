/**
 * Test apps: synthesized in a temporary directory, with cdk.json's feature flags, without bundling (the bundles are tested in
 * bundling.test.ts) and without CDK's built-in CloudFormation validation (10 s; `npm run synth`
 * keeps it).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REFERENCE_DATA_MAP } from '../../infra/stack';

export function testApp(): App {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-infra-'));
  const { context } = JSON.parse(fs.readFileSync(path.join(__dirname, '../../cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  // The app's own feature flags, so the tests see the template `npm run synth` deploys.
  return new App({ outdir, builtinCloudFormationValidation: false, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
}

export function referenceDataMap(): { version: 1; stores: Record<string, unknown>[]; operator?: unknown } {
  return JSON.parse(fs.readFileSync(REFERENCE_DATA_MAP, 'utf8'));
}

export function nagViolations(app: App, stack: Stack): string[] {
  return new AwsSolutionsChecks(app)
    .validateScope(stack)
    .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}

export type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

/** The statements of every IAM policy attached to the role whose logical id starts with `rolePrefix`. */
export function roleStatements(template: Template, rolePrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

export function actionsOf(s: Statement): string[] {
  return Array.isArray(s.Action) ? s.Action : [s.Action];
}

export function resourcesOf(s: Statement): unknown[] {
  return Array.isArray(s.Resource) ? s.Resource : [s.Resource];
}

/** `arn:${Partition}:…` joins rendered flat: `arn:<AWS::Partition>:s3:::b/k`. */
export function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Fn::Join']) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flat).join(sep);
  }
  if (v.Ref) return `<${v.Ref as string}>`;
  if (v['Fn::GetAtt']) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  return JSON.stringify(value);
}
