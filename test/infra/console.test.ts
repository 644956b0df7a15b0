/**
 * The construct's `console` prop: off by default; on, an HTTP API with a Cognito JWT
 * authorizer on every route, a user pool with the support and auditor groups, the page on a
 * bucket no one reaches but CloudFront (origin access control), security headers, an API
 * access log without IPs, two console functions holding the support and the auditor policy's
 * statements (the auditor's path routed to the auditor's function, which can write nothing),
 * and no unacknowledged cdk-nag finding.
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

  it('gives the support function the support policy\'s statements (no delete, no work bucket)', () => {
    const statements = roleStatements(t, 'DsrConsoleConsoleApiRole');
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toEqual(expect.arrayContaining(['states:StartExecution', 'dynamodb:PutItem', 'dynamodb:Query']));
    expect(actions.filter((a) => /Delete/.test(a))).toEqual([]);
  });

  it('gives the auditor function the auditor policy\'s statements: reads only, and the ledger by leading key', () => {
    const statements = roleStatements(t, 'DsrConsoleConsoleAuditApiRole');
    const actions = [...new Set(statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))].sort();
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'states:GetExecutionHistory']));
    // Logs and traces are the function's own output; everything else is a read.
    const own = /^(logs:CreateLogStream|logs:PutLogEvents|xray:PutTraceSegments|xray:PutTelemetryRecords)$/;
    const reads = /^(dynamodb:(GetItem|Query)|states:(ListExecutions|DescribeStateMachine|DescribeExecution|GetExecutionHistory)|kms:(Decrypt|DescribeKey))$/;
    expect(actions.filter((a) => !own.test(a) && !reads.test(a))).toEqual([]);
    expect(actions.filter((a) => /Put(Item|Object)|Update|Delete|Start|Write|Encrypt|GenerateDataKey|s3:/.test(a) && !own.test(a))).toEqual([]);
    const ledger = statements.find((s) => s.Sid === 'Receipts')!;
    expect(JSON.stringify(ledger.Condition)).toContain('dynamodb:LeadingKeys');
  });

  it('routes the auditor\'s path to the auditor function and everything else under /api to support\'s', () => {
    const fns = t.findResources('AWS::Lambda::Function');
    const serving = (role: string) => Object.keys(fns).find((k) => fns[k].Properties.Environment?.Variables?.DSR_CONSOLE_SERVES === role)!;
    const integrations = t.findResources('AWS::ApiGatewayV2::Integration');
    const target = (routeKey: string) => {
      const route = Object.values(t.findResources('AWS::ApiGatewayV2::Route')).find((r) => r.Properties.RouteKey === routeKey)!;
      const id = (route.Properties.Target['Fn::Join'][1] as Array<string | { Ref: string }>).map((p) => (typeof p === 'string' ? '' : p.Ref)).join('');
      return JSON.stringify(integrations[id].Properties.IntegrationUri);
    };
    for (const method of ['GET', 'POST']) {
      expect(target(`${method} /api/audit/{proxy+}`)).toContain(serving('auditor'));
      expect(target(`${method} /api/{proxy+}`)).toContain(serving('support'));
    }
  });

  it('leaves no unacknowledged cdk-nag finding', () => {
    expect(nagViolations(app, on)).toEqual([]);
  });
});
