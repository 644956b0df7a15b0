/** Starts a foreground DynamoDB Local, prints its Java pid, and waits (test/local/dynamodb-lifecycle.test.ts kills it). */
import { startDynamoDbLocal } from '../../local/dynamodb';
import { freePort } from '../../local/ports';

void (async () => {
  const db = await startDynamoDbLocal({ port: await freePort() });
  process.stdout.write(`${JSON.stringify({ javaPid: db.pid })}\n`);
  setInterval(() => undefined, 60_000);
})();
