/**
 * One real bundle, built the way the construct builds all of them (local esbuild, ESM, banner,
 * configuration copied in, HMAC bootstrap injected), then loaded by Node 22 as Lambda would.
 */
import { App, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as logs from 'aws-cdk-lib/aws-logs';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HANDLERS } from '../../functions/handlers/registry';
import { CONFIG_FILE_NAME, ESM_BANNER, handlerFunction, writeConfigFile } from '../../infra/functions';
import { referenceDataMap } from './synth';

let outdir: string;
let assetDir: string;
let config: unknown;

afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

beforeAll(() => {
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsr-bundle-'));
  const app = new App({ outdir, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Bundle');
  config = { dataMap: referenceDataMap(), settings: { approvalRequired: false, bundleUrlExpirySeconds: 900 } };
  const spec = HANDLERS.find((h) => h.id === 'validate-request')!;
  const fn = handlerFunction(stack, spec, {
    configFile: writeConfigFile(stack, config),
    environment: {},
    logRetention: logs.RetentionDays.ONE_DAY,
    anonymizationSecret: new secretsmanager.Secret(stack, 'Key'),
  });
  app.synth();
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const key = (Stack.of(fn).resolve(cfn.code) as { s3Key: string }).s3Key.replace(/\.zip$/, '');
  assetDir = path.join(outdir, `asset.${key}`);
}, 120_000);

describe('Function: handlerFunction bundling', () => {
  it('emits one ESM file that defines require and __dirname, with the configuration beside it', () => {
    const code = fs.readFileSync(path.join(assetDir, 'index.mjs'), 'utf8');
    expect(code.startsWith(ESM_BANNER)).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(assetDir, CONFIG_FILE_NAME), 'utf8'))).toEqual(config);
    // The SDK is bundled, not taken from the runtime.
    expect(code).not.toMatch(/from\s*"@aws-sdk\//);
  });

  it('fetches the HMAC key with a signed GetSecretValue during init, then serves with the bundled configuration', () => {
    const script = path.join(assetDir, 'run.mjs');
    fs.writeFileSync(
      script,
      `
import http from 'node:http';
const seen = [];
// Stands in for Secrets Manager (none can run here): the first answer is a throttle, retried.
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    seen.push({ target: req.headers['x-amz-target'], body: JSON.parse(body), token: req.headers['x-amz-security-token'], signed: /^AWS4-HMAC-SHA256 Credential=x\\/\\d{8}\\/ca-west-1\\/secretsmanager\\/aws4_request/.test(req.headers.authorization) });
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    if (seen.length === 1) { res.statusCode = 400; return res.end(JSON.stringify({ __type: 'ThrottlingException' })); }
    res.end(JSON.stringify({ SecretString: 'k'.repeat(64) }));
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
Object.assign(process.env, {
  AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:' + server.address().port,
  AWS_SESSION_TOKEN: 'session-token', DSR_HMAC_SECRET_ARN: 'arn:aws:secretsmanager:ca-west-1:111111111111:secret:dsr-hmac-AbCdEf',
  DSR_LEDGER_TABLE: 'ledger', DSR_WORK_BUCKET: 'work', DSR_BUNDLE_BUCKET: 'bundles',
  AWS_REGION: 'ca-west-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', POWERTOOLS_LOG_LEVEL: 'SILENT',
});
const { handler } = await import('./index.mjs');
let error = null;
try { await handler({}, {}); } catch (err) { error = err.name; }
server.close();
console.log(JSON.stringify({ seen, error }));
`,
    );
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '' } });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    // Retried past the throttle; signed with the role's credentials, in the secret's region.
    const call = { target: 'secretsmanager.GetSecretValue', body: { SecretId: 'arn:aws:secretsmanager:ca-west-1:111111111111:secret:dsr-hmac-AbCdEf' }, token: 'session-token', signed: true };
    expect(result.seen).toEqual([call, call]);
    // The input is refused at the edge; the configuration (found through __dirname, names from the environment) loaded fine.
    expect(result.error).toBe('InvalidInput');
  });
});
