/**
 * The construct's `console` prop: off by default; on, an HTTP API with a Cognito JWT
 * authorizer on every route, a user pool with the support and auditor groups, the page on a
 * bucket no one reaches but CloudFront (origin access control), security headers, an API
 * access log without IPs, the console function holding the support policy's statements, and
 * no unacknowledged cdk-nag finding.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { ReferenceOperatorStack } from '../../infra/stack';
import { nagViolations, roleStatements, testApp } from './synth';

const app = testApp();
const off = new ReferenceOperatorStack(app, 'NoConsole', { env: { account: '111111111111', region: 'ca-central-1' } });
const on = new ReferenceOperatorStack(app, 'WithConsole', { env: { account: '111111111111', region: 'ca-central-1' }, orchestrator: { console: { domainPrefix: 'dsr-console-test' } } });
const t = Template.fromStack(on);

describe('SubjectRightsOrchestrator console', () => {
  it('is off by default', () => {
    const none = Template.fromStack(off);
    expect(Object.keys(none.findResources('AWS::ApiGatewayV2::Api'))).toEqual([]);
    expect(Object.keys(none.findResources('AWS::CloudFront::Distribution'))).toEqual([]);
  });

  it('puts a Cognito JWT authorizer on every API route, and logs calls without IPs', () => {
    const authorizers = t.findResources('AWS::ApiGatewayV2::Authorizer');
    expect(Object.values(authorizers).map((a) => a.Properties.AuthorizerType)).toEqual(['JWT']);
    const routes = Object.values(t.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.length).toBeGreaterThan(0);
    for (const r of routes) expect(r.Properties).toMatchObject({ AuthorizationType: 'JWT' });
    const stage = Object.values(t.findResources('AWS::ApiGatewayV2::Stage'))[0];
    const format = stage.Properties.AccessLogSettings.Format as string;
    expect(format).toContain('$context.requestId');
    expect(format).not.toMatch(/sourceIp|userAgent|\$context\.path/);
  });

  it('creates the user pool with the support and auditor groups, MFA required', () => {
    const groups = Object.values(t.findResources('AWS::Cognito::UserPoolGroup')).map((g) => g.Properties.GroupName).sort();
    expect(groups).toEqual(['auditor', 'support']);
    t.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON', AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } });
  });

  it('serves the page from a private bucket through origin access control, with security headers', () => {
    expect(Object.keys(t.findResources('AWS::CloudFront::OriginAccessControl')).length).toBe(1);
    t.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { LogFilePrefix: 'console-ui/' },
    });
    const policy = Object.values(t.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0];
    const sec = policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(sec.ContentSecurityPolicy.ContentSecurityPolicy).toContain("frame-ancestors 'none'");
    expect(sec.StrictTransportSecurity).toBeDefined();
    expect(sec.FrameOptions.FrameOption).toBe('DENY');
  });

  it('gives the console function the support policy\'s statements (no delete, no work bucket)', () => {
    const statements = roleStatements(t, 'DsrConsoleConsoleApiRole');
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toEqual(expect.arrayContaining(['states:StartExecution', 'dynamodb:PutItem', 'dynamodb:Query']));
    expect(actions.filter((a) => /Delete/.test(a))).toEqual([]);
  });

  it('leaves no unacknowledged cdk-nag finding', () => {
    expect(nagViolations(app, on)).toEqual([]);
  });
});
