/**
 * PLACEHOLDER on the iam-endpoints branch: the iam-core branch replaces this file with the real
 * authorizer (the construct's grants per function, the IAM evaluator, the principals). It exists
 * so the endpoints and the engine wiring compile and run before that merge; it allows everything.
 */
import type { DataMap } from '../../functions/core/datamap';
import type { Settings } from '../../functions/core/config';
import { allowAll, type Authorizer } from './types';

export interface LocalAuthorizerOptions {
  readonly dataMap: DataMap;
  readonly settings: Settings;
  readonly region: string;
  readonly accountId: string;
}

export function createLocalAuthorizer(opts: LocalAuthorizerOptions): Authorizer {
  void opts;
  return allowAll;
}
