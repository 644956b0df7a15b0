/**
 * The product's error hierarchy. The `name` of an error is what Step Functions matches in
 * `Retry`/`Catch` (`ErrorEquals`) and what an auditor reads in the execution history, so
 * every class sets it explicitly, and no message may carry a personal value.
 */
export class DsrError extends Error {
  public readonly details?: Record<string, unknown>;
  constructor(message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DsrError';
    this.details = details;
  }
}

/** The data map or another configuration is invalid. Never retried. */
export class DataMapError extends DsrError {
  constructor(message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'DataMapError';
  }
}

/** Configuration other than the data map (retention schedule, settings) is invalid. */
export class ConfigError extends DsrError {
  constructor(message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'ConfigError';
  }
}

/** A handler received input that does not match its schema. */
export class InvalidInputError extends DsrError {
  constructor(message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'InvalidInput';
  }
}

/**
 * The request is refused (no verification, stale verification, unknown subject, ...). The
 * `reason` is a fixed code, safe for the execution history.
 */
export class RequestRefusedError extends DsrError {
  public readonly reason: string;
  constructor(reason: string, message: string, options?: ErrorOptions) {
    super(message, { reason }, options);
    this.name = 'RequestRefused';
    this.reason = reason;
  }
}

/** A store could not be reached or answered an error: retried by the state machine. */
export class StoreUnavailableError extends DsrError {
  constructor(store: string, message: string, options?: ErrorOptions) {
    super(`store ${store}: ${message}`, { store }, options);
    this.name = 'StoreUnavailable';
  }
}

/** An object changed while it was being rewritten; the rewrite is redone. */
export class ConcurrentModificationError extends DsrError {
  constructor(message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'ConcurrentModification';
  }
}

/** The rewritten object failed verification; the original was left in place. */
export class VerificationFailedError extends DsrError {
  constructor(message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'VerificationFailed';
  }
}

/** The ledger has no request under this id. Never retried: the id is wrong, or the request was never recorded. */
export class RequestNotFoundError extends DsrError {
  constructor(requestId: string, options?: ErrorOptions) {
    super(`request ${requestId} is not in the ledger`, { requestId }, options);
    this.name = 'RequestNotFound';
  }
}

/**
 * A request's recorded state lacks what a step needs (its identity, findings, a plan) or does not
 * hang together (a plan entry without its finding). A step run out of order or a document lost
 * from the work bucket; never retried: retrying reads the same state.
 */
export class RequestStateError extends DsrError {
  constructor(message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'RequestStateInvalid';
  }
}

/** A stored document does not match the hash recorded for it: changed or corrupted since it was written. */
export class IntegrityError extends DsrError {
  constructor(message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'IntegrityCheckFailed';
  }
}

/**
 * The receipt chain's head kept moving under an append, every attempt. Not ConcurrentModification
 * (which the state machine retries): the append has already retried within itself.
 */
export class ReceiptChainBusyError extends DsrError {
  constructor(message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'ReceiptChainBusy';
  }
}

/** An AWS service answered in a way its API does not allow (a truncated listing with no marker). */
export class UnexpectedResponseError extends DsrError {
  constructor(message: string, details?: Record<string, unknown>, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'UnexpectedResponse';
  }
}
