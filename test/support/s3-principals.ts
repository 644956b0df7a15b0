/**
 * SDK v3 clients of a local S3 endpoint, one per access key: the principal a test authorizer
 * (test-policy.ts) decides by. No retries, so a denial surfaces as the first answer.
 */
import { S3Client } from '@aws-sdk/client-s3';

export function s3ClientAs(endpoint: string, accessKeyId: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId, secretAccessKey: 'x' }, maxAttempts: 1 });
}

/** Clients made as needed (the endpoint known once the server is up), all destroyed at the end. */
export function s3Principals(endpoint: () => string): { client(accessKeyId: string): S3Client; destroyAll(): void } {
  const clients: S3Client[] = [];
  return {
    client(accessKeyId) {
      const c = s3ClientAs(endpoint(), accessKeyId);
      clients.push(c);
      return c;
    },
    destroyAll() {
      for (const c of clients) c.destroy();
      clients.length = 0;
    },
  };
}
