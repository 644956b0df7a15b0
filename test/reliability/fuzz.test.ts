/**
 * Fuzzing the input side (fast-check): request ids and subject ids (createRequest, the CLI),
 * key-template expansion, and an s3-records erasure end to end on small objects with subject
 * values full of regex, glob, CSV and JSON special characters, unicode and very long values:
 * no false match, no missed record, no crash, a clear validation error where input is invalid.
 * The matching functions themselves have property tests in test/core/matching.test.ts.
 */
import fc from 'fast-check';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gunzipSync, gzipSync } from 'node:zlib';
import { stringify } from 'csv-stringify/sync';
import { main } from '../../cli/main';
import { createRequest } from '../../functions/core/request';
import { DataMapError, InvalidInputError } from '../../functions/core/errors';
import { expandTemplate, S3ObjectsStoreSchema, S3RecordsStoreSchema, type S3RecordsStore } from '../../functions/core/datamap';
import { subjectPrefixes } from '../../functions/connectors/s3-objects';
import { createS3RecordsConnector } from '../../functions/connectors/s3-records';
import { startTestEndpoints, type TestEndpoints } from '../support/endpoints';
import { context, s3Client, versionedBucket } from './support';

const VALID_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SPECIAL = ['.*', '[a-z]', '(x|y)+', '\\', '\\d', '"', "'", ',', ';', '\n', '\r\n', '\t', '{"a":1}', '*?', '**/', '$&', '$1', '%s', '%00', '😀', 'é', 'e\u0301', 'İ', 'ß', '\u2028', '\u00a0', '<script>', '../', '=cmd|', '\ufeff'];
const special = fc.array(fc.constantFrom(...SPECIAL), { minLength: 1, maxLength: 6 }).map((a) => a.join(''));
const anyText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  special,
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/), special).map(([a, b]) => a + b),
  fc.string({ minLength: 600, maxLength: 3000 }),
);

const NOW = new Date('2026-11-22T12:00:00Z');

describe('request input', () => {
  it('createRequest accepts exactly the valid request ids and says why it refuses the others, without echoing values', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fc.stringMatching(VALID_ID)), fc.oneof(anyText, fc.string({ minLength: 1, maxLength: 512 })), (requestId, subjectId) => {
        const validId = VALID_ID.test(requestId);
        const validSubject = subjectId.length >= 1 && subjectId.length <= 512;
        let result;
        try {
          result = createRequest({ requestId, subjectId, type: 'erasure' }, NOW);
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidInputError);
          const message = (err as Error).message;
          expect(message).toMatch(/^invalid request: /);
          if (!validId) expect(message).toContain('requestId');
          if (!validSubject) expect(message).toContain('subjectId');
          // Rejected values may be personal: never in the message.
          if (subjectId.length >= 12) expect(message.includes(subjectId)).toBe(false);
          expect(validId && validSubject).toBe(false);
          return;
        }
        expect(validId && validSubject).toBe(true);
        expect(result.requestId).toBe(requestId);
        expect(result.subjectId).toBe(subjectId);
      }),
      { numRuns: 400 },
    );
  });

  it('expandTemplate substitutes any value literally or refuses it with a DataMapError', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const refused = value === '' || value === '.' || value === '..' || value.includes('/');
        try {
          const key = expandTemplate('recordings/{accountId}/', { accountId: value });
          expect(refused).toBe(false);
          expect(key).toBe(`recordings/${value}/`);
        } catch (err) {
          expect(err).toBeInstanceOf(DataMapError);
          expect(refused).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('one subject key prefix is never a prefix of another subject key prefix', () => {
    const store = S3ObjectsStoreSchema.parse({ name: 'call-recordings', kind: 's3-objects', category: 'call-recording', bucket: 'media-bucket', keyTemplate: 'recordings/{accountId}/' });
    fc.assert(
      fc.property(anyText, anyText, (a, b) => {
        fc.pre(a !== b);
        const pa = subjectPrefixes(store, { accountId: [a] }).prefixes;
        const pb = subjectPrefixes(store, { accountId: [b] }).prefixes;
        for (const x of pa) for (const y of pb) expect(y.startsWith(x)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  describe('dsr start', () => {
    const saved = { ...process.env };
    beforeAll(() => {
      // A deployment whose endpoints do not answer: validation must happen before any call.
      Object.assign(process.env, {
        DSR_LEDGER_TABLE: 'ledger',
        DSR_WORK_BUCKET: 'work',
        DSR_BUNDLE_BUCKET: 'bundles',
        DSR_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:dsr',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local-secret',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      });
    });
    afterAll(() => {
      process.env = saved;
    });

    it('refuses an invalid --request-id with exit code 2 and a message naming the option, never the subject', async () => {
      await fc.assert(
        fc.asyncProperty(
          anyText.filter((id) => !VALID_ID.test(id) && !id.startsWith('-')),
          fc.stringMatching(/^[a-z]{12,20}$/),
          async (requestId, subject) => {
            let out = '';
            let err = '';
            const code = await main(['node', 'dsr', 'start', '--type', 'erasure', '--subject', subject, '--request-id', requestId], { out: (t) => (out += t), err: (t) => (err += t) });
            expect(code).toBe(2);
            expect(err).toMatch(/--request-id: must be 1-64 letters/);
            expect(out + err).not.toContain(subject);
          },
        ),
        { numRuns: 60 },
      );
    });
  });
});

describe('s3-records erasure with fuzzed subject values, end to end on small objects', () => {
  let env: TestEndpoints;
  let s3: S3Client;
  let bucket: string;
  let seq = 0;
  beforeAll(async () => {
    env = await startTestEndpoints({ dynamodb: false });
    s3 = s3Client(env.s3Endpoint, 3);
    bucket = await versionedBucket(s3, 'fuzz-logs');
  });
  afterAll(async () => {
    s3?.destroy();
    await env?.close();
  });

  const value = anyText.filter((v) => v.trim() !== '' && v.trim() === v);

  /** Lines that must not match: near misses of the subject's values. */
  function nearMisses(v: string, d: string): string[] {
    const cps = Array.from(v);
    const out = new Set([`${v}x`, `x${v}`, cps.slice(0, -1).join(''), cps.slice(1).join(''), v.toUpperCase(), v.toLowerCase(), ` ${v}`, `${v} `, v.normalize('NFD'), v.normalize('NFC'), `${d}${v}`]);
    out.delete(v);
    out.delete(d);
    out.delete('');
    return [...out];
  }

  async function eraseAndRead(store: S3RecordsStore, key: string, body: Buffer, identity: Record<string, string[]>): Promise<{ found: number; text: string }> {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const connector = createS3RecordsConnector();
    const ctx = context({ s3 });
    const findings = await connector.discover(store, identity, ctx);
    await connector.apply(store, identity, findings.map((finding) => ({ finding, action: 'delete' as const })), ctx);
    const got = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
    return { found: findings.length, text: (got[0] === 0x1f ? gunzipSync(got) : got).toString('utf8') };
  }

  /** JSON with every non-ASCII character and "/" escaped, as some log writers do. */
  const asciiJson = (o: unknown) => JSON.stringify(o).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/\//g, '\\/');

  it('JSON Lines: removes exactly the subject records, keeps every near miss byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(value, value, async (v, d) => {
        fc.pre(v !== d);
        const prefix = `jsonl/${++seq}/`;
        const store = S3RecordsStoreSchema.parse({
          name: 'sip-logs',
          kind: 's3-records',
          category: 'logs',
          bucket,
          prefix,
          format: 'jsonl',
          compression: 'gzip',
          fields: [
            { path: 'sipUser', identifier: 'sipUsername', match: 'value' },
            { path: 'userAgent.deviceId', identifier: 'deviceId', match: 'value' },
          ],
          erase: { mode: 'delete-record' },
        });
        const mine = [JSON.stringify({ n: 1, sipUser: v }), JSON.stringify({ n: 2, userAgent: { deviceId: d } }), asciiJson({ n: 3, sipUser: v, note: 'escaped' })];
        const theirs = [
          ...nearMisses(v, d).map((x, i) => JSON.stringify({ n: 10 + i, sipUser: x })),
          ...nearMisses(d, v).map((x, i) => JSON.stringify({ n: 100 + i, userAgent: { deviceId: x } })),
          JSON.stringify({ n: 200, note: v, sipUser: 'someone-else' }),
          JSON.stringify({ n: 201, sipUser: d }),
          JSON.stringify({ n: 202, userAgent: { deviceId: v } }),
        ];
        const lines = [...theirs.slice(0, 3), mine[0], ...theirs.slice(3, 6), mine[1], ...theirs.slice(6), mine[2]];
        const r = await eraseAndRead(store, `${prefix}a.jsonl.gz`, gzipSync(lines.join('\n') + '\n'), { sipUsername: [v], deviceId: [d] });
        expect(r.found).toBe(3);
        expect(r.text.split('\n').filter((l) => l !== '')).toEqual(theirs);
      }),
      { numRuns: 25 },
    );
  }, 120_000);

  it('CSV: removes exactly the subject rows, keeps every near miss byte for byte', async () => {
    await fc.assert(
      fc.asyncProperty(value, value, async (v, e) => {
        fc.pre(v !== e);
        const prefix = `csv/${++seq}/`;
        const store = S3RecordsStoreSchema.parse({
          name: 'app-logs',
          kind: 's3-records',
          category: 'logs',
          bucket,
          prefix,
          format: 'csv',
          compression: 'auto',
          fields: [{ path: 'accountId', identifier: 'accountId', match: 'value' }],
          erase: { mode: 'delete-record' },
        });
        const row = (r: string[]) => stringify([r]).replace(/\n$/, '');
        const mine = [row(['1', v, 'login']), row(['2', v, e])];
        const theirs = [...nearMisses(v, e).map((x, i) => row([String(10 + i), x, 'login'])), row(['300', e, v]), row(['301', 'someone', v])];
        const lines = [row(['n', 'accountId', 'message']), theirs[0], mine[0], ...theirs.slice(1), mine[1]];
        const r = await eraseAndRead(store, `${prefix}a.csv`, Buffer.from(lines.join('\n') + '\n'), { accountId: [v] });
        expect(r.found).toBe(2);
        // Rows may hold quoted newlines: compare whole texts.
        expect(r.text).toBe([lines[0], ...theirs].join('\n') + '\n');
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
