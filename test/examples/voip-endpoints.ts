/**
 * DynamoDB Local and the project's S3 server on free ports, with SDK clients pointed at them,
 * for the reference-dataset loader test. Real endpoints, no mocks.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { startDynamoDbLocal, type RunningDynamoDbLocal } from '../../local/dynamodb';
import { freePort } from '../../local/ports';
import { startS3Server, type RunningS3Server } from '../../local/s3';

export interface VoipEndpoints {
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  close(): Promise<void>;
}

export async function startVoipEndpoints(): Promise<VoipEndpoints> {
  let ddb: RunningDynamoDbLocal | undefined;
  let s3: RunningS3Server | undefined;
  try {
    [ddb, s3] = await Promise.all([freePort().then((port) => startDynamoDbLocal({ port })), startS3Server({ port: 0 })]);
  } catch (err) {
    await Promise.all([ddb?.stop(), s3?.close()]);
    throw err;
  }
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local-secret' };
  const dynamodb = new DynamoDBClient({ endpoint: ddb.endpoint, region: 'us-east-1', credentials });
  const s3Client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
  return {
    dynamodb,
    s3: s3Client,
    async close() {
      dynamodb.destroy();
      s3Client.destroy();
      await Promise.all([ddb?.stop(), s3?.close()]);
    },
  };
}
