/**
 * `npm run synth` / `npx cdk synth`: the reference operator's stack, checked by cdk-nag's
 * AWS Solutions pack (a finding fails the synth). Env-agnostic unless CDK_DEFAULT_* are set.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ReferenceOperatorStack } from './stack';

const app = new App();
new ReferenceOperatorStack(app, app.node.tryGetContext('stackName') ?? 'SubjectRightsOrchestrator', {
  env: process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } : undefined,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
