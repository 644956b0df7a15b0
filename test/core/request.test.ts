/**
 * What makes two starts "the same request", and which executions a request may run under:
 * pure rules, no endpoint needed.
 */
import type { RequestRecord } from '../../functions/core/ledger';
import { createRequest, executionName, isExecutionNameOf, requestHash, sameRequest, type NewSubjectRequest } from '../../functions/core/request';
import { checkRequest } from '../../functions/core/validation';

const verification = { method: 'id-document', verifiedBy: 'agent-7', reference: 'T-1', verifiedAt: '2026-11-02T12:00:00.000Z' };
const input: NewSubjectRequest = { requestId: 'r-1', subjectId: 'cust-1', type: 'erasure', verification };

describe('sameRequest', () => {
  const stored = createRequest(input, new Date('2026-11-02T12:00:05Z'));

  it('ignores a verification time the caller did not give, and only that', () => {
    const retried = { ...input, verification: { ...verification, verifiedAt: '2026-11-02T12:03:00.000Z' } };
    expect(sameRequest(stored, retried, { verifiedAtDefaulted: true })).toBe(true);
    expect(sameRequest(stored, retried)).toBe(false);
    expect(sameRequest(stored, { ...retried, verification: { ...retried.verification, reference: 'T-2' } }, { verifiedAtDefaulted: true })).toBe(false);
    expect(sameRequest(stored, { ...retried, subjectId: 'cust-10' }, { verifiedAtDefaulted: true })).toBe(false);
  });
});

describe('execution names', () => {
  it('a resume runs as <id>--resume-<n>, and nothing else passes for one', () => {
    expect(executionName({ requestId: 'r-1', mode: 'resume' }, 3)).toBe('r-1--resume-3');
    expect(isExecutionNameOf('r-1--resume-3', { requestId: 'r-1', mode: 'resume' })).toBe(true);
    for (const name of ['r-1', 'r-1--resume-', 'r-1--resume-0', 'r-1--resume-1x', 'r-10--resume-1', 'r-1--apply']) {
      expect({ name, ok: isExecutionNameOf(name, { requestId: 'r-1', mode: 'resume' }) }).toEqual({ name, ok: false });
    }
    expect(isExecutionNameOf('r-1--resume-1', { requestId: 'r-1', mode: 'run' })).toBe(false);
  });
});

describe('checkRequest for a resume', () => {
  const request = createRequest(input, new Date('2026-11-02T12:00:05Z'));
  const record = (over: Partial<RequestRecord>): RequestRecord => ({ request, requestHash: requestHash(request), status: 'failed', updatedAt: '2026-11-02T12:10:00Z', ...over });
  const resume = (r: RequestRecord, settings: { verificationMaxAgeDays: number; approvalRequired?: boolean } = { verificationMaxAgeDays: 30 }, now = new Date('2027-06-01T00:00:00Z')) =>
    checkRequest(r, { requestId: 'r-1', requestHash: r.requestHash, mode: 'resume', executionName: 'r-1--resume-1' }, settings, now);

  it('accepts a failed erasure months later (its verification was checked when it first ran)', () => {
    expect(resume(record({}))).toEqual({ decision: 'accepted' });
  });

  it('refuses what is not a failed erasure, and an unapproved one where approval is required', () => {
    expect(resume(record({ status: 'completed' }))).toEqual({ decision: 'refused', reason: 'invalid-request' });
    expect(resume(record({ status: 'refused' }))).toEqual({ decision: 'refused', reason: 'invalid-request' });
    const access = createRequest({ ...input, type: 'access' }, new Date());
    expect(resume({ request: access, requestHash: requestHash(access), status: 'failed', updatedAt: '' })).toEqual({ decision: 'refused', reason: 'invalid-request' });
    expect(resume(record({}), { verificationMaxAgeDays: 30, approvalRequired: true })).toEqual({ decision: 'refused', reason: 'not-approved' });
    expect(resume(record({ approval: { planHash: 'a'.repeat(64), approvedBy: 'dpo', approvedAt: '' } }), { verificationMaxAgeDays: 30, approvalRequired: true })).toEqual({ decision: 'accepted' });
  });
});

describe('checkRequest for a system-originated erasure (retention schedule)', () => {
  const basis = { category: 'account', basis: 'none', from: 'deactivation', after: '2y0m0d', anchorAt: '2024-11-01T00:00:00.000Z', dueAt: '2026-11-01T00:00:00.000Z', runId: 'enforce-1' };
  const system = createRequest({ requestId: 'ret-account-1', subjectId: 'cust-1', type: 'erasure', origin: 'retention-schedule', retentionBasis: basis }, new Date('2026-11-02T00:00:00Z'));
  const record = (request = system, over: Partial<RequestRecord> = {}): RequestRecord => ({ request, requestHash: requestHash(request), status: 'received', updatedAt: '', ...over });
  const check = (r: RequestRecord, mode: 'run' | 'apply' | 'lift' = 'run', now = '2026-11-02T00:00:00Z', approvalRequired = false) =>
    checkRequest(r, { requestId: r.request.requestId, requestHash: r.requestHash, mode, executionName: mode === 'run' ? r.request.requestId : `${r.request.requestId}--${mode}` }, { verificationMaxAgeDays: 30, approvalRequired }, new Date(now));

  it('accepts it without a verification once due by its own basis, and never before', () => {
    expect(check(record())).toEqual({ decision: 'accepted' });
    // Enforcement's date runs ahead of the clock the machine checks against: not due yet, refused.
    expect(check(record(), 'run', '2026-10-31T00:00:00Z')).toEqual({ decision: 'refused', reason: 'invalid-request' });
  });

  it('refuses one without a basis, one that carries a verification, and one of another type', () => {
    const { retentionBasis: _b, ...noBasis } = system;
    expect(check(record(noBasis as typeof system))).toEqual({ decision: 'refused', reason: 'verification-missing' });
    expect(check(record({ ...system, verification }))).toEqual({ decision: 'refused', reason: 'invalid-request' });
    expect(check(record({ ...system, type: 'access' }))).toEqual({ decision: 'refused', reason: 'invalid-request' });
    expect(check(record(), 'lift')).toEqual({ decision: 'refused', reason: 'invalid-request' });
  });

  it('applies only an approved plan where approval is required', () => {
    expect(check(record(), 'apply', '2026-11-02T00:00:00Z', true)).toEqual({ decision: 'refused', reason: 'not-approved' });
    expect(check(record(system, { status: 'approved' }), 'apply', '2026-11-02T00:00:00Z', true)).toEqual({ decision: 'accepted' });
  });
});
