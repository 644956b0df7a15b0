/**
 * Holds and erasures exclude each other, through conditional writes on DynamoDB Local: a hold
 * changed after a plan was made blocks its erasure, and a hold cannot be placed while an
 * erasure holds the lease.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { acquireErasureLease, ErasureInProgressError, HoldsChangedError, readHoldVersions, readHoldVersionsMany, releaseErasureLeases, SubjectErasureInProgressError, type LeaseArgs } from '../../functions/core/erasure-lock';
import { countRequests } from '../connectors/dynamodb-fixtures';
import { HoldError, placeHold, releaseHold } from '../../functions/core/hold-ledger';
import { Ledger, ledgerTableDefinition } from '../../functions/core/ledger';
import { startTestEndpoints, type TestEndpoints } from '../support/endpoints';

let ep: TestEndpoints;
let rt: { dynamodb: TestEndpoints['dynamodb']; ledger: Ledger };
const now = new Date('2026-11-02T00:00:00Z');
const lease = (subjectId: string, store: string, owner: string, seen: LeaseArgs['seen'], leaseId = owner) => acquireErasureLease(rt, { subjectId, store, owner, leaseId, seen });
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
    await expect(acquireErasureLease(rt, { subjectId: 'cust-1', store: 'contacts', owner: 'r1', leaseId: 'r1', seen })).rejects.toBeInstanceOf(HoldsChangedError);
    // A new plan sees the hold (and decides to keep the data); its lease is granted.
    const fresh = await readHoldVersions(rt, 'cust-1', ['contacts']);
    await expect(acquireErasureLease(rt, { subjectId: 'cust-1', store: 'contacts', owner: 'r2', leaseId: 'r2', seen: fresh })).resolves.toBeUndefined();
    await releaseErasureLeases(rt, 'cust-1', ['contacts'], 'r2');
  });

  it('a hold cannot be placed or released while an erasure holds the lease; afterwards it can', async () => {
    const seen = await readHoldVersions(rt, 'cust-2', ['invoices']);
    await acquireErasureLease(rt, { subjectId: 'cust-2', store: 'invoices', owner: 'r3', leaseId: 'r3', seen });
    await expect(hold('cust-2', 'hold-b')).rejects.toBeInstanceOf(ErasureInProgressError);
    await releaseErasureLeases(rt, 'cust-2', ['invoices'], 'r3');
    await expect(hold('cust-2', 'hold-b')).resolves.toMatchObject({ holdId: 'hold-b', status: 'active' });
  });

  it('subjects are exact: a lease on cust-1 does not block a hold on cust-10', async () => {
    const seen = await readHoldVersions(rt, 'cust-1', ['fax']);
    await acquireErasureLease(rt, { subjectId: 'cust-1', store: 'fax', owner: 'r4', leaseId: 'r4', seen });
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
      const [h, e] = await Promise.allSettled([hold(subject, `hold-race-${i}`), acquireErasureLease(rt, { subjectId: subject, store: 'contacts', owner: `rr-${i}`, leaseId: `rr-${i}`, seen })]);
      expect([h.status, e.status].filter((s) => s === 'fulfilled')).toHaveLength(1);
    }
  });

  it('erasures of different subjects on one store share it; a hold waits for the last of them', async () => {
    const a = await readHoldVersions(rt, 'share-a', ['calls']);
    const b = await readHoldVersions(rt, 'share-b', ['calls']);
    await Promise.all([lease('share-a', 'calls', 'ra', a), lease('share-b', 'calls', 'rb', b)]);
    const storeHold = () => placeHold(rt, { scope: 'store', store: 'calls', kind: 'litigation', reference: 'CASE-2', placedBy: 'legal' }, now, `hold-store-${Math.random()}`);
    await releaseErasureLeases(rt, 'share-a', ['calls'], 'ra');
    // rb's lease is still live: releasing ra's did not release it.
    await expect(storeHold()).rejects.toBeInstanceOf(ErasureInProgressError);
    await expect(hold('share-b', 'hold-share-b')).rejects.toBeInstanceOf(ErasureInProgressError);
    await expect(hold('share-a', 'hold-share-a')).resolves.toMatchObject({ status: 'active' });
    await releaseErasureLeases(rt, 'share-b', ['calls'], 'rb');
    await expect(storeHold()).resolves.toMatchObject({ status: 'active' });
  });

  it('many erasures of different subjects on one store at once all get their lease', async () => {
    const subjects = Array.from({ length: 8 }, (_, i) => `many-${i}`);
    const seen = await Promise.all(subjects.map((s) => readHoldVersions(rt, s, ['voicemail'])));
    const results = await Promise.allSettled(subjects.map((s, i) => lease(s, 'voicemail', `rm-${i}`, seen[i])));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    await Promise.all(subjects.map((s, i) => releaseErasureLeases(rt, s, ['voicemail'], `rm-${i}`)));
    await expect(placeHold(rt, { scope: 'store', store: 'voicemail', kind: 'litigation', reference: 'CASE-3', placedBy: 'legal' }, now, 'hold-vm')).resolves.toMatchObject({ status: 'active' });
  });

  it('a second erasure of the same subject is refused as SubjectErasureInProgress, not HoldsChanged; the same owner shares it', async () => {
    const seen = await readHoldVersions(rt, 'twice', ['contacts', 'invoices']);
    await lease('twice', 'contacts', 'first', seen);
    const second = lease('twice', 'invoices', 'second', seen);
    await expect(second).rejects.toBeInstanceOf(SubjectErasureInProgressError);
    await expect(second).rejects.toMatchObject({ name: 'SubjectErasureInProgress' });
    // One owner's leases on two stores (a sweep's entries of one request) are released apart.
    await lease('twice', 'invoices', 'first', seen, 'first-invoices');
    await releaseErasureLeases(rt, 'twice', ['contacts'], 'first');
    await expect(hold('twice', 'hold-twice')).rejects.toBeInstanceOf(ErasureInProgressError);
    await releaseErasureLeases(rt, 'twice', ['invoices'], 'first-invoices');
    await expect(lease('twice', 'invoices', 'second', seen)).resolves.toBeUndefined();
    await releaseErasureLeases(rt, 'twice', ['invoices'], 'second');
  });

  it('a hold changed on the store is reported as such, and only then', async () => {
    const seen = await readHoldVersions(rt, 'st-1', ['fax2']);
    await placeHold(rt, { scope: 'store', store: 'fax2', kind: 'litigation', reference: 'CASE-4', placedBy: 'legal' }, now, 'hold-fax2');
    await expect(lease('st-1', 'fax2', 'rs', seen)).rejects.toMatchObject({ name: 'HoldsChanged', message: expect.stringMatching(/store fax2/) });
  });

  it('a crashed run\'s lease expires: holds and other owners go ahead, and its entry is dropped on the next release', async () => {
    const { DynamoDBDocumentClient, UpdateCommand, GetCommand } = await import('@aws-sdk/lib-dynamodb');
    const { subjectLockKey } = await import('../../functions/core/erasure-lock');
    const doc = DynamoDBDocumentClient.from(rt.dynamodb);
    const seen = await readHoldVersions(rt, 'crash', ['contacts']);
    await lease('crash', 'contacts', 'crashed', seen);
    // As if the run had crashed 21 minutes ago: its lease is past.
    const past = new Date(Date.now() - 60_000).toISOString();
    await doc.send(new UpdateCommand({ TableName: 'ledger', Key: subjectLockKey('crash'), UpdateExpression: 'SET #l = :p, erasingUntil = :p', ExpressionAttributeNames: { '#l': 'lease#crashed' }, ExpressionAttributeValues: { ':p': past } }));
    await expect(lease('crash', 'contacts', 'next', seen)).resolves.toBeUndefined();
    await releaseErasureLeases(rt, 'crash', ['contacts'], 'next');
    const item = (await doc.send(new GetCommand({ TableName: 'ledger', Key: subjectLockKey('crash'), ConsistentRead: true }))).Item!;
    expect(Object.keys(item).filter((k) => k.startsWith('lease#'))).toEqual([]);
    expect(item.erasingUntil).toBeUndefined();
    await expect(hold('crash', 'hold-crash')).resolves.toMatchObject({ status: 'active' });
  });
});

describe('hold versions of many subjects at once', () => {
  it('reads what readHoldVersions reads for each subject, over more than one BatchGetItem, in ceil((subjects + 1) / 100) calls', async () => {
    const subjects = Array.from({ length: 230 }, (_v, i) => `many-${i}`);
    for (const s of ['many-0', 'many-99', 'many-100', 'many-229']) await hold(s, `hold-${s}`);
    await hold('many-99', 'hold-many-99-again');
    await placeHold(rt, { scope: 'store', store: 'sip-many', kind: 'litigation', reference: 'CASE-4', placedBy: 'legal' }, now, 'hold-sip-many');
    const counter = countRequests(rt.dynamodb);
    let many;
    try {
      // A subject named twice is read once.
      many = await readHoldVersionsMany(rt, [...subjects, 'many-5'], 'sip-many');
      expect(counter.counts.BatchGetItemCommand).toBe(3);
      expect(counter.counts.GetItemCommand).toBeUndefined();
    } finally {
      counter.stop();
    }
    expect(many.size).toBe(230);
    for (const s of subjects) expect(many.get(s)).toEqual(await readHoldVersions(rt, s, ['sip-many']));
    expect(many.get('many-99')).toEqual({ subject: 2, stores: { 'sip-many': 1 } });
    expect(many.get('many-1')).toEqual({ subject: 0, stores: { 'sip-many': 1 } });
  });
});
