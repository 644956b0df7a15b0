/**
 * IAM in front of the real DynamoDB Local: the SDK v3 and the aws CLI through the proxy, with a
 * small identity policy per principal (test/support/test-policy.ts). A denied call fails as on
 * AWS (400 AccessDeniedException, IAM's message) and changes nothing; everything else is
 * DynamoDB Local's own answer.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  DynamoDBServiceException,
} from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal, type RunningDynamoDbLocal } from '../../local/dynamodb';
import { startDynamoDbProxy, type RunningDynamoDbProxy } from '../../local/iam/dynamodb-proxy';
import { freePort } from '../../local/ports';
import { awsCli, awsCliEnv, hasAwsCli } from '../support/aws-cli';
import { roleArn, testAuthorizer, type TestAuthorizer } from '../support/test-policy';

const T = 'iam-tenants';
const TABLE_ARN = `arn:aws:dynamodb:us-east-1:000000000000:table/${T}`;

let ddbLocal: RunningDynamoDbLocal;
let proxy: RunningDynamoDbProxy;
let authz: TestAuthorizer;
const clients: DynamoDBClient[] = [];

function client(accessKeyId: string, endpoint = proxy.endpoint): DynamoDBClient {
  const c = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey: 'x' }, maxAttempts: 1 });
  clients.push(c);
  return c;
}

let admin: DynamoDBClient;
let tenant: DynamoDBClient;

beforeAll(async () => {
  authz = testAuthorizer({
    AKTENANT: {
      arn: roleArn('tenant-a'),
      statements: [
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
          Resource: [TABLE_ARN, `${TABLE_ARN}/index/*`],
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['tenant-a'] } },
        },
        { Effect: 'Allow', Action: 'dynamodb:DescribeTable', Resource: TABLE_ARN },
      ],
    },
    AKATTRS: {
      arn: roleArn('attrs'),
      statements: [
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          Resource: TABLE_ARN,
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'status'] } },
        },
      ],
    },
  });
  ddbLocal = await startDynamoDbLocal({ port: await freePort() });
  proxy = await startDynamoDbProxy({ port: 0, target: ddbLocal.endpoint, authorize: authz.authorize });
  admin = client('local');
  tenant = client('AKTENANT');
  await admin.send(
    new CreateTableCommand({
      TableName: T,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'status', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [{ IndexName: 'byStatus', KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
    }),
  );
  await admin.send(new PutItemCommand({ TableName: T, Item: { pk: { S: 'tenant-b' }, sk: { S: '1' }, status: { S: 'open' } } }));
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await proxy?.close();
  await ddbLocal?.stop();
});

async function denied(p: Promise<unknown>): Promise<DynamoDBServiceException> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof DynamoDBServiceException)) throw new Error(`expected a DynamoDB error, got ${String(err)}`);
  return err;
}

const message = (action: string, resource = TABLE_ARN) =>
  `User: ${roleArn('tenant-a')} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

describe('the DynamoDB proxy asks IAM for every call', () => {
  it('lets allowed calls through to DynamoDB Local unchanged', async () => {
    await tenant.send(new PutItemCommand({ TableName: T, Item: { pk: { S: 'tenant-a' }, sk: { S: '1' }, status: { S: 'open' } } }));
    const got = await tenant.send(new GetItemCommand({ TableName: T, Key: { pk: { S: 'tenant-a' }, sk: { S: '1' } } }));
    expect(got.Item).toEqual({ pk: { S: 'tenant-a' }, sk: { S: '1' }, status: { S: 'open' } });
    const q = await tenant.send(new QueryCommand({ TableName: T, KeyConditionExpression: '#p = :p', ExpressionAttributeNames: { '#p': 'pk' }, ExpressionAttributeValues: { ':p': { S: 'tenant-a' } } }));
    expect(q.Count).toBe(1);
  });

  it('answers a denied call with the AccessDeniedException the SDK raises on AWS', async () => {
    const err = await denied(tenant.send(new BatchWriteItemCommand({ RequestItems: { [T]: [{ PutRequest: { Item: { pk: { S: 'tenant-a' }, sk: { S: '2' } } } }] } })));
    // The SDK has no modeled class for it: on AWS too it is a DynamoDBServiceException named so.
    expect(err.name).toBe('AccessDeniedException');
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.message).toBe(message('dynamodb:BatchWriteItem'));
    const item = await admin.send(new GetItemCommand({ TableName: T, Key: { pk: { S: 'tenant-a' }, sk: { S: '2' } } }));
    expect(item.Item).toBeUndefined();
  });

  it('puts the partition key values in dynamodb:LeadingKeys: another tenant is denied, exactly', async () => {
    const other = await denied(tenant.send(new GetItemCommand({ TableName: T, Key: { pk: { S: 'tenant-b' }, sk: { S: '1' } } })));
    expect(other.message).toBe(message('dynamodb:GetItem'));
    // A prefix of the allowed value is not the value.
    await expect(denied(tenant.send(new PutItemCommand({ TableName: T, Item: { pk: { S: 'tenant-a0' }, sk: { S: '1' } } })))).resolves.toMatchObject({ name: 'AccessDeniedException' });
    const query = await denied(tenant.send(new QueryCommand({ TableName: T, KeyConditionExpression: 'pk = :p AND sk > :s', ExpressionAttributeValues: { ':p': { S: 'tenant-b' }, ':s': { S: '0' } } })));
    expect(query.message).toBe(message('dynamodb:Query'));
    const asked = authz.asked.filter((a) => a.request.action === 'dynamodb:Query').map((a) => a.request.context?.['dynamodb:LeadingKeys']);
    expect(asked).toEqual(expect.arrayContaining([['tenant-a'], ['tenant-b']]));
  });

  it('authorizes a Query on an index against the index ARN and its partition key', async () => {
    const err = await denied(tenant.send(new QueryCommand({ TableName: T, IndexName: 'byStatus', KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'open' } } })));
    expect(err.message).toBe(message('dynamodb:Query', `${TABLE_ARN}/index/byStatus`));
    const last = authz.asked.filter((a) => a.request.action === 'dynamodb:Query').at(-1);
    expect(last?.request).toEqual({ action: 'dynamodb:Query', resource: `${TABLE_ARN}/index/byStatus`, context: { 'dynamodb:LeadingKeys': ['open'] } });
  });

  it('denies a TransactWriteItems by one item’s action and writes none of it', async () => {
    const err = await denied(
      tenant.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: T, Item: { pk: { S: 'tenant-a' }, sk: { S: 'tx' } } } },
            { Delete: { TableName: T, Key: { pk: { S: 'tenant-a' }, sk: { S: '1' } } } },
          ],
        }),
      ),
    );
    expect(err.message).toBe(message('dynamodb:DeleteItem'));
    const item = await admin.send(new GetItemCommand({ TableName: T, Key: { pk: { S: 'tenant-a' }, sk: { S: 'tx' } } }));
    expect(item.Item).toBeUndefined();
    await tenant.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: T, Item: { pk: { S: 'tenant-a' }, sk: { S: 'tx' } } } },
          { Update: { TableName: T, Key: { pk: { S: 'tenant-a' }, sk: { S: '1' } }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'done' } } } },
        ],
      }),
    );
    const updated = await admin.send(new GetItemCommand({ TableName: T, Key: { pk: { S: 'tenant-a' }, sk: { S: '1' } } }));
    expect(updated.Item?.status).toEqual({ S: 'done' });
  });

  it('authorizes ListTables on the account and Scan on the table', async () => {
    const list = await denied(tenant.send(new ListTablesCommand({})));
    expect(list.message).toBe(message('dynamodb:ListTables', 'arn:aws:dynamodb:us-east-1:000000000000:table/*'));
    const scan = await denied(tenant.send(new ScanCommand({ TableName: T })));
    expect(scan.message).toBe(message('dynamodb:Scan'));
    await expect(admin.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: [T] });
  });

  it('puts the attributes a request reads or writes in dynamodb:Attributes, and Select', async () => {
    const attrs = client('AKATTRS');
    const key = { pk: { S: 'tenant-b' }, sk: { S: '1' } };
    await expect(attrs.send(new GetItemCommand({ TableName: T, Key: key, ProjectionExpression: '#s, pk', ExpressionAttributeNames: { '#s': 'status' } }))).resolves.toBeDefined();
    const secret = await denied(attrs.send(new GetItemCommand({ TableName: T, Key: key, ProjectionExpression: 'secret' })));
    expect(secret.message).toContain('is not authorized to perform: dynamodb:GetItem');
    await expect(attrs.send(new UpdateItemCommand({ TableName: T, Key: key, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'open' } } }))).resolves.toBeDefined();
    const write = await denied(
      attrs.send(new UpdateItemCommand({ TableName: T, Key: key, UpdateExpression: 'SET #s = :s, note = :n REMOVE extra', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': { S: 'x' }, ':n': { S: 'y' } } })),
    );
    expect(write.name).toBe('AccessDeniedException');
    const last = authz.asked.filter((a) => a.request.action === 'dynamodb:UpdateItem').at(-1);
    expect(last?.request.context).toEqual({ 'dynamodb:LeadingKeys': ['tenant-b'], 'dynamodb:Attributes': ['pk', 'sk', 'status', 'note', 'extra'] });
    const item = await admin.send(new GetItemCommand({ TableName: T, Key: key }));
    expect(item.Item?.note).toBeUndefined();
    await tenant.send(new QueryCommand({ TableName: T, Select: 'COUNT', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'tenant-a' } } }));
    expect(authz.asked.filter((a) => a.request.action === 'dynamodb:Query').at(-1)?.request.context).toEqual({ 'dynamodb:LeadingKeys': ['tenant-a'], 'dynamodb:Select': 'COUNT' });
  });

  it('refuses a key no principal has with UnrecognizedClientException', async () => {
    const err = await denied(client('AKNOBODY').send(new GetItemCommand({ TableName: T, Key: { pk: { S: 'tenant-a' }, sk: { S: '1' } } })));
    expect(err.name).toBe('UnrecognizedClientException');
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.message).toBe('The security token included in the request is invalid.');
  });

  it('decides side-by-side calls of two principals each on its own', async () => {
    const calls = Array.from({ length: 12 }, (_, i) =>
      (i % 2 ? tenant : admin).send(new GetItemCommand({ TableName: T, Key: { pk: { S: 'tenant-b' }, sk: { S: '1' } } })).then(
        () => 'ok',
        (e: Error) => e.name,
      ),
    );
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 ? 'AccessDeniedException' : 'ok')));
  });

  it('passes DynamoDB Local’s answers through byte for byte', async () => {
    const call = (endpoint: string, target: string, body: unknown) =>
      fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `DynamoDB_20120810.${target}`,
          authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
        },
        body: JSON.stringify(body),
      });
    for (const [target, body] of [
      ['GetItem', { TableName: T, Key: { pk: { S: 'tenant-b' }, sk: { S: '1' } } }],
      ['GetItem', { TableName: 'no-such-table', Key: { pk: { S: 'x' } } }],
    ] as const) {
      const [direct, proxied] = await Promise.all([call(ddbLocal.endpoint, target, body), call(proxy.endpoint, target, body)]);
      expect(proxied.status).toBe(direct.status);
      expect(await proxied.text()).toBe(await direct.text());
      // Hop-by-hop headers (connection, keep-alive) belong to each connection, not to the answer.
      const names = (r: Response) => [...r.headers.keys()].filter((h) => !['date', 'x-amzn-requestid', 'connection', 'keep-alive'].includes(h)).sort();
      expect(names(proxied)).toEqual(names(direct));
      expect(proxied.headers.get('x-amz-crc32')).toBe(direct.headers.get('x-amz-crc32'));
    }
  });
});

(hasAwsCli ? describe : describe.skip)('the aws CLI through the proxy', () => {
  it('prints AccessDeniedException for a denied get-item', async () => {
    const run = (pk: string) =>
      awsCli(proxy.endpoint, ['dynamodb', 'get-item', '--table-name', T, '--key', JSON.stringify({ pk: { S: pk }, sk: { S: '1' } })], awsCliEnv('AKTENANT', { AWS_MAX_ATTEMPTS: '1' }));
    const [bad, good] = await Promise.all([run('tenant-b'), run('tenant-a')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`An error occurred (AccessDeniedException) when calling the GetItem operation: ${message('dynamodb:GetItem')}`);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout).Item.pk).toEqual({ S: 'tenant-a' });
  });
});
