/**
 * Holds and erasures exclude each other, through conditional writes on DynamoDB Local: a hold
 * changed after a plan was made blocks its erasure, and a hold cannot be placed while an
 * erasure holds the lease.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { acquireErasureLease, ErasureInProgressError, HoldsChangedError, readHoldVersions, releaseErasureLeases } from '../../functions/core/erasure-lock';
import { HoldError, placeHold, releaseHold } from '../../functions/core/hold-ledger';
import { Ledger, ledgerTableDefinition } from '../../functions/core/ledger';
import { startTestEndpoints, type TestEndpoints } from '../support/endpoints';

let ep: TestEndpoints;
let rt: { dynamodb: TestEndpoints['dynamodb']; ledger: Ledger };
const now = new Date('2026-11-02T00:00:00Z');
const hold = (subjectId: string, holdId: string) =>
  placeHold(rt, { scope: 'subject', subjectId, kind: 'litigation', reference: 'CASE-1', placedBy: 'legal' }, now, holdId);

beforeAll(async () => {
  ep = await startTestEndpoints({ s3: false });
  await ep.dynamodb.send(new CreateTableCommand(ledgerTableDefinition('ledger')));

  rt = { dynamodb: ep.dynamodb, ledger: new Ledger(ep.dynamodb, 'ledger') };
}, 150_000);
afterAll(() => ep?.close());

describe('holds against erasures', () => {
  it('a hold placed after the plan was made blocks the erasure of that plan', async () => {
    const seen = await readHoldVersions(rt, 'cust-1', ['contacts']);
    await hold('cust-1', 'hold-a');
    await expect(acquireErasureLease(rt, { subjectId: 'cust-1', store: 'contacts', requestId: 'r1', now, seen })).rejects.toBeInstanceOf(HoldsChangedError);
    // A new plan sees the hold (and decides to keep the data); its lease is granted.
    const fresh = await readHoldVersions(rt, 'cust-1', ['contacts']);
    await expect(acquireErasureLease(rt, { subjectId: 'cust-1', store: 'contacts', requestId: 'r2', now, seen: fresh })).resolves.toBeUndefined();
    await releaseErasureLeases(rt, 'cust-1', ['contacts'], 'r2');
  });

  it('a hold cannot be placed or released while an erasure holds the lease; afterwards it can', async () => {
    const seen = await readHoldVersions(rt, 'cust-2', ['invoices']);
    await acquireErasureLease(rt, { subjectId: 'cust-2', store: 'invoices', requestId: 'r3', now, seen });
    await expect(hold('cust-2', 'hold-b')).rejects.toBeInstanceOf(ErasureInProgressError);
    await releaseErasureLeases(rt, 'cust-2', ['invoices'], 'r3');
    await expect(hold('cust-2', 'hold-b')).resolves.toMatchObject({ holdId: 'hold-b', status: 'active' });
  });

  it('subjects are exact: a lease on cust-1 does not block a hold on cust-10', async () => {
    const seen = await readHoldVersions(rt, 'cust-1', ['fax']);
    await acquireErasureLease(rt, { subjectId: 'cust-1', store: 'fax', requestId: 'r4', now, seen });
    await expect(hold('cust-10', 'hold-c')).resolves.toMatchObject({ holdId: 'hold-c' });
    await releaseErasureLeases(rt, 'cust-1', ['fax'], 'r4');
  });

  it('releasing twice, or an unknown hold, is a clear error', async () => {
    await releaseHold(rt, 'hold-c', 'legal', now);
    await expect(releaseHold(rt, 'hold-c', 'legal', now)).rejects.toThrow(new HoldError('hold hold-c was already released'));
    await expect(releaseHold(rt, 'hold-zzz', 'legal', now)).rejects.toThrow(/does not exist/);
  });

  it('of two concurrent attempts — a hold and an erasure lease on the same plan — exactly one wins', async () => {
    for (let i = 0; i < 10; i++) {
      const subject = `race-${i}`;
      const seen = await readHoldVersions(rt, subject, ['contacts']);
      const [h, e] = await Promise.allSettled([hold(subject, `hold-race-${i}`), acquireErasureLease(rt, { subjectId: subject, store: 'contacts', requestId: `rr-${i}`, now, seen })]);
      expect([h.status, e.status].filter((s) => s === 'fulfilled')).toHaveLength(1);
    }
  });
});
