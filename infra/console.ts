/**
 * The web console deployed (the construct's `console` prop, off by default): the API as an API
 * Gateway HTTP API over two Lambda functions running console/lambda.ts (the router `dsr
 * console` serves locally), one per role, each with that role's IAM policy: `/api/audit/*`
 * reaches the auditor's function (the auditor policy: history, receipts, the deadline index;
 * no write), every other `/api/*` route support's. A Cognito JWT authorizer guards both; the
 * caller's group (`support`, `auditor`) is the role, and each function serves only its own
 * group, so an auditor's call never runs with support's permissions. The page on a private S3 bucket behind CloudFront with origin access control, which
 * also routes `/api/*` to the HTTP API so the page and its API share one origin (CSP
 * `connect-src 'self'`, no CORS).
 */
import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeUiAssetsSync, SECURITY_HEADERS } from '../console/assets';
import type { HandlerSpec } from '../functions/handlers/registry';
import { handlerFunction } from './functions';
import { acknowledge, flattenCfnReference } from './nag';

export interface ConsoleOptions {
  /**
   * The user pool whose `support` and `auditor` groups are the console's roles. When given, the
   * groups must exist in it (they are not created).
   * @default - a new pool (no self sign-up, MFA required, threat protection on) with both groups
   */
  readonly userPool?: cognito.IUserPool;
  /** Prefix of the Cognito hosted sign-in domain (`<prefix>.auth.<region>.amazoncognito.com`). */
  readonly domainPrefix: string;
  /** A WAF web ACL (global scope) for the distribution. @default none */
  readonly webAclId?: string;
}

export interface ConsoleDeps {
  readonly configFile: string;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly logKey?: kms.IKey;
  readonly accessLogs: s3.IBucket;
}

/** The console's functions, as handler specs so they get the same bundling, role, logs and tracing. */
const SUPPORT_SPEC = {
  id: 'console-api',
  substitution: '',
  // handlerFunction resolves modules under functions/handlers/.
  module: '../../console/lambda',
  exportName: 'handler',
  memoryMb: 512,
  timeoutSeconds: 29,
  machine: 'subject-request',
} as const satisfies HandlerSpec;
const AUDITOR_SPEC = { ...SUPPORT_SPEC, id: 'console-audit-api' } as const satisfies HandlerSpec;

export class DsrConsole extends Construct {
  /** Serves the `support` group (`/api/*`), with the support policy. */
  readonly supportFunction: NodejsFunction;
  /** Serves the `auditor` group (`/api/audit/*`), with the auditor policy. */
  readonly auditorFunction: NodejsFunction;
  readonly userPool: cognito.IUserPool;
  readonly distribution: cloudfront.Distribution;
  readonly httpApi: apigwv2.HttpApi;
  readonly uiBucket: s3.Bucket;

  constructor(scope: Construct, id: string, opts: ConsoleOptions, deps: ConsoleDeps) {
    super(scope, id);
    const region = Stack.of(this).region;
    const fn = (spec: HandlerSpec, serves: 'support' | 'auditor') =>
      handlerFunction(this, spec, {
        configFile: deps.configFile,
        // The CLI's variables, where the bundled data map is (hold checks read it), and the one role served.
        environment: { ...deps.environment, DSR_CONFIG_FILE: '/var/task/dsr-config.json', DSR_CONSOLE_SERVES: serves },
        logRetention: deps.logRetention,
        logKey: deps.logKey,
      });
    this.supportFunction = fn(SUPPORT_SPEC, 'support');
    this.auditorFunction = fn(AUDITOR_SPEC, 'auditor');

    this.userPool = opts.userPool ?? this.createUserPool();
    this.httpApi = new apigwv2.HttpApi(this, 'Api', { description: 'Subject Rights Orchestrator console API', createDefaultStage: false });
    const apiLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: deps.logRetention, encryptionKey: deps.logKey });
    // No source IP, user agent or path: the access log records that a call happened and how it ended.
    const format = JSON.stringify({ requestId: '$context.requestId', time: '$context.requestTime', route: '$context.routeKey', status: '$context.status', latencyMs: '$context.responseLatency', authError: '$context.authorizer.error' });
    new apigwv2.HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 20, burstLimit: 40 },
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(apiLogs), format: AccessLogFormat.custom(format) },
    });

    this.uiBucket = new s3.Bucket(this, 'UiBucket', {
      // SSE-S3: CloudFront's origin access control reads it without a key grant; the page holds nothing personal.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: deps.accessLogs,
      serverAccessLogsPrefix: 'console-ui/',
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
    });

    const csp = SECURITY_HEADERS['content-security-policy'];
    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Subject Rights Orchestrator console',
      defaultRootObject: 'index.html',
      webAclId: opts.webAclId,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.uiBucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        responseHeadersPolicy: headers,
      },
      additionalBehaviors: {
        '/api/*': {
          origin: new origins.HttpOrigin(`${this.httpApi.apiId}.execute-api.${region}.amazonaws.com`, { protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY, originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2] }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          // The Authorization header reaches the API; the Host header stays the API's own.
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: headers,
        },
      },
    });
    const pageUrl = `https://${this.distribution.distributionDomainName}/`;

    const client = this.userPool.addClient('ConsoleClient', {
      generateSecret: false,
      preventUserExistenceErrors: true,
      // The page is static: the hosted UI hands it an access token in the fragment (no secret to keep).
      oAuth: { flows: { implicitCodeGrant: true }, scopes: [cognito.OAuthScope.OPENID], callbackUrls: [pageUrl], logoutUrls: [pageUrl] },
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
    });
    const domain = this.userPool.addDomain('SignIn', { cognitoDomain: { domainPrefix: opts.domainPrefix } });
    const authorizer = new HttpJwtAuthorizer('Cognito', `https://cognito-idp.${region}.amazonaws.com/${this.userPool.userPoolId}`, { jwtAudience: [client.userPoolClientId] });
    // The more specific route wins: an auditor's path never reaches support's function.
    this.httpApi.addRoutes({
      path: '/api/audit/{proxy+}',
      methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('AuditorLambda', this.auditorFunction),
      authorizer,
    });
    this.httpApi.addRoutes({
      path: '/api/{proxy+}',
      methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Lambda', this.supportFunction),
      authorizer,
    });

    // Built at synth into the cloud assembly's neighbourhood; the asset hash follows the content.
    const uiDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-console-ui-')));
    writeUiAssetsSync(uiDir);
    const loginUrl = `${domain.baseUrl()}/login?response_type=token&scope=openid&client_id=${client.userPoolClientId}&redirect_uri=${pageUrl}`;
    const deployment = new s3deploy.BucketDeployment(this, 'Ui', {
      destinationBucket: this.uiBucket,
      sources: [s3deploy.Source.asset(uiDir), s3deploy.Source.jsonData('config.json', { auth: 'cognito', loginUrl })],
      distribution: this.distribution,
      memoryLimit: 256,
    });
    this.acknowledgeFindings(deployment);
  }

  private createUserPool(): cognito.UserPool {
    const pool = new cognito.UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      passwordPolicy: { minLength: 14, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const group of ['support', 'auditor']) new cognito.CfnUserPoolGroup(this, `${group}Group`, { userPoolId: pool.userPoolId, groupName: group, description: `Subject Rights Orchestrator console role ${group}` });
    return pool;
  }

  private acknowledgeFindings(deployment: s3deploy.BucketDeployment): void {
    for (const f of [this.supportFunction, this.auditorFunction]) {
      acknowledge(f.role!, 'AwsSolutions-IAM5[Resource::*]', 'Only xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing), which support no resource-level permissions.');
      acknowledge(f, 'AwsSolutions-L1', 'Node.js 22 is the runtime the project targets and tests; move with the toolchain.');
    }
    acknowledge(this.distribution, 'AwsSolutions-CFR1', 'Staff sign in through Cognito with MFA; no country is excluded by design. Add a WAF web ACL (webAclId) with geo rules where policy requires.');
    acknowledge(this.distribution, 'AwsSolutions-CFR2', 'Every API call needs a Cognito token checked by API Gateway; a WAF web ACL can be given with the webAclId option.');
    acknowledge(this.distribution, 'AwsSolutions-CFR3', 'CloudFront standard logs record each viewer\'s IP address (c-ip), a personal value; the API\'s access log (without IPs) records every call, and the static files hold nothing personal.');
    acknowledge(this.distribution, 'AwsSolutions-CFR4', 'The default *.cloudfront.net certificate allows TLSv1 viewers; a custom domain with its own certificate sets TLSv1.2_2021.');
    // The deployment custom resource (CDK's own singleton) copies the page into the bucket.
    const singleton = Stack.of(this).node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    const stack = Stack.of(this);
    const literal = (v: string, name: string) => (Token.isUnresolved(v) ? `<AWS::${name}>` : v);
    const qualifier = (stack.synthesizer as { bootstrapQualifier?: string }).bootstrapQualifier ?? 'hnb659fds';
    const assets = `arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-${literal(stack.account, 'AccountId')}-${literal(stack.region, 'Region')}/*`;
    const uiObjects = `${flattenCfnReference(stack.resolve(this.uiBucket.bucketArn))}/*`;
    const why = 'CDK\'s BucketDeployment function copies the page from the CDK asset bucket into the UI bucket and invalidates the distribution: the wildcards CDK writes for that, on those two buckets only (CreateInvalidation has no resource-level permission).';
    for (const scope of [deployment.handlerRole, ...(singleton ? [singleton] : [])]) {
      acknowledge(scope, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'CDK\'s BucketDeployment function: basic execution role for its own logs.');
      for (const finding of ['Action::s3:GetBucket*', 'Action::s3:GetObject*', 'Action::s3:List*', 'Action::s3:Abort*', 'Action::s3:DeleteObject*', `Resource::${assets}`, `Resource::${uiObjects}`, 'Resource::*']) {
        acknowledge(scope, `AwsSolutions-IAM5[${finding}]`, why);
      }
      acknowledge(scope, 'AwsSolutions-L1', 'CDK\'s BucketDeployment function: its runtime is chosen by aws-cdk-lib.');
    }
  }
}
