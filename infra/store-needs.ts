/**
 * The vocabulary of least privilege on the operator's stores: the operations a handler runs
 * against them, the resources a store entry names, and one need (these actions on this
 * resource). Pure data, no CDK: the local engine's IAM reads it through infra/policies.ts.
 */

/** What a handler does against the operator's stores. */
export type StoreOperation =
  /** Identity resolution: the owner lookups of the DynamoDB stores that yield identifiers. */
  | 'identity'
  /** Discovery and verification: finds the subject's records. */
  | 'discover'
  /** Retention decisions: reads the hold flags of the subject's own records. */
  | 'holds'
  /** Export: reads the records and files discovery found. */
  | 'export'
  /** Erasure: deletes, anonymizes, redacts mentions, restricts held records. */
  | 'erase'
  /** Restriction: marks records restricted. */
  | 'restrict'
  /** Consent withdrawal and objection: sets the consent attributes of the subject's own items in the stores the data map's purposes name. */
  | 'consent'
  /** Retention enforcement: lists subjects by the subject dates' indexes (functions/core/enforcement-subjects.ts). */
  | 'subject-dates'
  /** Retention enforcement: finds records past their limit (date index or Scan), deletes them, and discovers held subjects there (enforcement-purge.ts). */
  | 'expire';

/** A resource of an operator store, by the name the data map gives it. */
export type StoreResource =
  | { readonly type: 'table'; readonly table: string }
  | { readonly type: 'index'; readonly table: string; readonly index: string }
  | { readonly type: 'bucket'; readonly bucket: string }
  | { readonly type: 'objects'; readonly bucket: string; readonly pattern: string };

/** What one operation needs on one store: merged into grants by store-grants.ts. */
export interface StoreNeed {
  readonly store: string;
  readonly actions: readonly string[];
  readonly resource: StoreResource;
  readonly prefix?: string;
}
