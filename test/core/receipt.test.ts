/** The receipt hash chain, in a real ledger table on DynamoDB Local. */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Ledger, ledgerTableDefinition } from '../../functions/core/ledger';
import { allReceipts, appendReceipt, checkChain, receiptForRequest, receiptPointerKey, type StoredReceipt } from '../../functions/core/receipt';
import { startTestEndpoints, type TestEndpoints } from '../support/endpoints';

let ep: TestEndpoints;
let rt: { dynamodb: TestEndpoints['dynamodb']; ledger: Ledger };

beforeAll(async () => {
  ep = await startTestEndpoints({ s3: false });
  await ep.dynamodb.send(new CreateTableCommand(ledgerTableDefinition('ledger')));

  rt = { dynamodb: ep.dynamodb, ledger: new Ledger(ep.dynamodb, 'ledger') };
}, 60_000);
afterAll(() => ep?.close());

async function readAll(): Promise<StoredReceipt[]> {
  const out: StoredReceipt[] = [];
  for await (const r of allReceipts(rt)) out.push(r);
  return out;
}

describe('receipt chain', () => {
  it('chains 50 receipts appended by concurrent writers, and writing one twice returns the first', async () => {
    // Five writers at a time race for the chain head; each append must still land exactly once.
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 5 }, (_, j) => batch * 5 + j).map((i) => appendReceipt(rt, { receiptVersion: 1, kind: 'request', id: `req-${i}`, outcome: 'completed', totals: { erase: i } })),
      );
    }
    const again = await appendReceipt(rt, { receiptVersion: 1, kind: 'request', id: 'req-7', outcome: 'completed', totals: { erase: 7 } });
    const receipts = await readAll();
    expect(receipts).toHaveLength(50);
    expect(receipts.map((r) => r.sequence)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(again.sequence).toBe(receipts.find((r) => JSON.parse(r.body).id === 'req-7')!.sequence);
    expect(checkChain(receipts)).toEqual({ ok: true, count: 50, problems: [] });
  }, 60_000);

  it('keeps a request\'s pointer in the receipt partition (auditors read nothing else), and still honours one written before at request#<id>', async () => {
    const doc = DynamoDBDocumentClient.from(ep.dynamodb);
    const pointer = await doc.send(new GetCommand({ TableName: 'ledger', Key: receiptPointerKey({ kind: 'request', id: 'req-3' }) }));
    expect(receiptPointerKey({ kind: 'request', id: 'req-3' })).toEqual({ pk: 'receipt', sk: 'request#req-3' });
    expect(pointer.Item?.sequence).toBe((await receiptForRequest(rt, 'req-3'))?.sequence);
    expect((await doc.send(new GetCommand({ TableName: 'ledger', Key: { pk: 'request#req-3', sk: 'receipt' } }))).Item).toBeUndefined();
    // A ledger from before the move: the pointer at request#<id> / receipt.
    await doc.send(new DeleteCommand({ TableName: 'ledger', Key: receiptPointerKey({ kind: 'request', id: 'req-4' }) }));
    const sequence = (await readAll()).find((r) => JSON.parse(r.body).id === 'req-4')!.sequence;
    await doc.send(new PutCommand({ TableName: 'ledger', Item: { pk: 'request#req-4', sk: 'receipt', sequence } }));
    expect((await receiptForRequest(rt, 'req-4'))?.sequence).toBe(sequence);
    const again = await appendReceipt(rt, { receiptVersion: 1, kind: 'request', id: 'req-4', outcome: 'completed', totals: { erase: 4 } });
    expect([again.sequence, (await readAll()).length]).toEqual([sequence, 50]);
  });

  it('detects one altered byte and a removed receipt', async () => {
    const doc = DynamoDBDocumentClient.from(ep.dynamodb);
    const receipts = await readAll();
    const victim = receipts[20];
    const altered = victim.body.replace('"completed"', '"complete"');
    expect(altered).not.toBe(victim.body);
    await doc.send(new UpdateCommand({ TableName: 'ledger', Key: { pk: 'receipt', sk: String(victim.sequence).padStart(12, '0') }, UpdateExpression: 'SET body = :b', ExpressionAttributeValues: { ':b': altered } }));
    const check = checkChain(await readAll());
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual([`receipt ${victim.sequence}: body does not match its hash (altered)`]);

    const withGap = receipts.filter((r) => r.sequence !== 30);
    expect(checkChain(withGap).problems).toEqual(expect.arrayContaining(['receipt 31: expected sequence 30 (a receipt is missing)']));
  });
});
