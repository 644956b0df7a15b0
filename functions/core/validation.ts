/** Whether a request may proceed. Reasons are fixed codes, safe for the execution history. */
import type { Settings } from './config';
import { InvalidInputError } from './errors';
import type { RequestRecord } from './ledger';
import { checkPurposes, isConsentType, type Purpose } from './purposes';
import { executionName, isExecutionNameOf, type ExecutionInput } from './request';

export { isExecutionNameOf };

export type RefusalReason = 'invalid-request' | 'verification-missing' | 'verification-stale' | 'verification-in-future' | 'not-approved' | 'unknown-purpose';
export type Verdict = { decision: 'accepted' } | { decision: 'refused'; reason: RefusalReason };

/** Clocks of the support desk and of AWS differ a little; a verification a few minutes ahead is fine. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export function checkRequest(
  record: RequestRecord | undefined,
  input: Pick<ExecutionInput, 'requestId' | 'requestHash' | 'mode'> & { executionName: string },
  settings: Pick<Settings, 'verificationMaxAgeDays'> & Partial<Pick<Settings, 'approvalRequired'>>,
  now: Date,
  /** The data map's purposes: a withdrawal or objection naming another one is refused. */
  purposes: Readonly<Record<string, Purpose>> = {},
): Verdict {
  if (!record || record.requestHash !== input.requestHash) return { decision: 'refused', reason: 'invalid-request' };
  // The execution name is the idempotency key: it must be the one derived from this request.
  if (!isExecutionNameOf(input.executionName, input)) return { decision: 'refused', reason: 'invalid-request' };
  // A system-originated erasure carries its retention basis instead of a person's verification.
  if (record.request.origin === 'retention-schedule') return checkRetentionOrigin(record, input, settings, now);
  const verification = record.request.verification;
  if (!verification) return { decision: 'refused', reason: 'verification-missing' };
  // The data map may have changed since `dsr start` checked the purposes.
  if (isConsentType(record.request.type) && !knownPurposes(record.request.purposes ?? [], purposes)) return { decision: 'refused', reason: 'unknown-purpose' };
  // A resume finishes an erasure that was verified and started; its verification is not
  // checked for age again (finishing late must stay possible).
  if (input.mode === 'resume') {
    if (!isResumable(record)) return { decision: 'refused', reason: 'invalid-request' };
    // Where erasure needs approval, only an approved request may erase when resumed.
    return settings.approvalRequired && record.request.type === 'erasure' && !record.approval ? { decision: 'refused', reason: 'not-approved' } : { decision: 'accepted' };
  }
  const verifiedAt = new Date(verification.verifiedAt).getTime();
  if (verifiedAt > now.getTime() + CLOCK_SKEW_MS) return { decision: 'refused', reason: 'verification-in-future' };
  if (now.getTime() - verifiedAt > settings.verificationMaxAgeDays * 86_400_000) return { decision: 'refused', reason: 'verification-stale' };
  if (input.mode === 'apply' && record.status !== 'approved') return { decision: 'refused', reason: 'not-approved' };
  if (input.mode === 'lift' && record.request.type !== 'restriction') return { decision: 'refused', reason: 'invalid-request' };
  // A person rectifies: there is nothing to plan or apply.
  if (record.request.type === 'rectification' && input.mode !== 'run') return { decision: 'refused', reason: 'invalid-request' };
  return { decision: 'accepted' };
}

/**
 * A failed erasure, withdrawal or objection can be resumed (`running`: this resume's own
 * ValidateRequest, retried). A withdrawal's resume reuses what its places already wrote.
 */
export function isResumable(record: RequestRecord): boolean {
  return (record.request.type === 'erasure' || isConsentType(record.request.type)) && (record.status === 'failed' || record.status === 'running');
}

function knownPurposes(named: readonly string[], declared: Readonly<Record<string, Purpose>>): boolean {
  try {
    checkPurposes(named, declared);
    return true;
  } catch {
    return false;
  }
}

/**
 * A request plans again (`dsr plan --replan`) and applies another approved plan under a new
 * execution name: `<name>-<suffix>`. A run and a lift keep their one name, so starting them
 * twice rejoins the first execution instead of erasing twice; a second apply is refused by
 * the approval check (the request is no longer `approved` once its apply has started).
 */
export function attemptExecutionName(input: Pick<ExecutionInput, 'requestId' | 'mode'>, suffix: string): string {
  if (!/^[0-9a-z]{1,8}$/.test(suffix)) throw new InvalidInputError(`an attempt suffix is 1-8 lowercase letters or digits, not ${JSON.stringify(suffix)}`);
  return `${executionName(input)}-${suffix}`;
}

/**
 * The retention-enforcement machine's own requests: an erasure (nothing else is ever started
 * without a person), with a basis and no verification (a verification it wrote itself would be
 * a fake one), and due by its own basis at this date (an anchor moved, or a clock set back,
 * must not erase early). Where erasures need approval these do too: a person approves the
 * plan as for any erasure (`dsr approve`), and only an approved one is applied or resumed.
 */
function checkRetentionOrigin(record: RequestRecord, input: Pick<ExecutionInput, 'mode'>, settings: Partial<Pick<Settings, 'approvalRequired'>>, now: Date): Verdict {
  const { request } = record;
  if (!request.retentionBasis) return { decision: 'refused', reason: 'verification-missing' };
  if (request.type !== 'erasure' || request.verification) return { decision: 'refused', reason: 'invalid-request' };
  if (input.mode === 'lift') return { decision: 'refused', reason: 'invalid-request' };
  if (input.mode === 'resume') {
    if (!isResumable(record)) return { decision: 'refused', reason: 'invalid-request' };
    return settings.approvalRequired && !record.approval ? { decision: 'refused', reason: 'not-approved' } : { decision: 'accepted' };
  }
  if (new Date(request.retentionBasis.dueAt).getTime() > now.getTime() + CLOCK_SKEW_MS) return { decision: 'refused', reason: 'invalid-request' };
  if (input.mode === 'apply' && record.status !== 'approved') return { decision: 'refused', reason: 'not-approved' };
  return { decision: 'accepted' };
}
