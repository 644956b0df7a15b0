/**
 * Real local endpoints for a test file: DynamoDB Local and the project's S3 server, each on a
 * free port, with SDK clients pointed at them. Nothing here is a mock.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { startDynamoDbLocal, type RunningDynamoDbLocal } from '../../local/dynamodb';
import { freePort } from '../../local/ports';
import { startS3Server, type RunningS3Server } from '../../local/s3';

export const TEST_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local-secret' };
export const TEST_REGION = 'us-east-1';

export interface TestEndpoints {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly dynamodbEndpoint: string;
  readonly s3Endpoint: string;
  close(): Promise<void>;
}

export async function startTestEndpoints(opts: { dynamodb?: boolean; s3?: boolean } = {}): Promise<TestEndpoints> {
  const wantDynamo = opts.dynamodb ?? true;
  const wantS3 = opts.s3 ?? true;
  let ddb: RunningDynamoDbLocal | undefined;
  let s3: RunningS3Server | undefined;
  try {
    [ddb, s3] = await Promise.all([
      wantDynamo ? freePort().then((port) => startDynamoDbLocal({ port })) : undefined,
      wantS3 ? startS3Server({ port: 0 }) : undefined,
    ]);
  } catch (err) {
    await Promise.all([ddb?.stop(), s3?.close()]);
    throw err;
  }
  const dynamodbEndpoint = ddb?.endpoint ?? 'http://127.0.0.1:1';
  const s3Endpoint = s3?.endpoint ?? 'http://127.0.0.1:1';
  const dynamodb = new DynamoDBClient({ endpoint: dynamodbEndpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const s3Client = new S3Client({ endpoint: s3Endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true });
  return {
    dynamodb,
    s3: s3Client,
    dynamodbEndpoint,
    s3Endpoint,
    async close() {
      dynamodb.destroy();
      s3Client.destroy();
      await Promise.all([ddb?.stop(), s3?.close()]);
    },
  };
}
