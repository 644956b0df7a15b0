/** A store's planned actions by action, as the DynamoDB and s3-objects connectors apply them. */
import { InvalidInputError } from '../core/errors';
import type { Action, Finding, PlannedAction } from './types';

/**
 * Groups the findings by their planned action, each finding once: the same action listed
 * twice counts once; two different actions on one finding refuse the whole plan (which was
 * meant cannot be told). `check` runs first on each, and throws for what this store refuses.
 */
export function groupByAction(storeName: string, actions: readonly PlannedAction[], check: (planned: PlannedAction) => void): Record<Action, Finding[]> {
  const groups: Record<Action, Finding[]> = { delete: [], anonymize: [], 'redact-mentions': [], restrict: [], unrestrict: [], keep: [] };
  const seen = new Map<string, Action>();
  for (const planned of actions) {
    check(planned);
    const { finding, action } = planned;
    if (!(action in groups)) throw new InvalidInputError(`store ${storeName}: unknown action for finding ${finding.id}`, { store: storeName });
    const previous = seen.get(finding.id);
    if (previous === action) continue;
    if (previous) throw new InvalidInputError(`store ${storeName}: finding ${finding.id} has two actions (${previous}, ${action})`, { store: storeName });
    seen.set(finding.id, action);
    groups[action].push(finding);
  }
  return groups;
}
