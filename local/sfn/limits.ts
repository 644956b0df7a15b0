/**
 * The Step Functions quotas the local engine enforces, with AWS's error names and texts.
 *
 * Sources (read 2026-12-02): AWS Step Functions developer guide, "Error handling" (States.ALL
 * "cannot catch the States.DataLimitExceeded terminal error or Runtime error types";
 * DataLimitExceeded is raised when a connector's output, a state's output, or a state's input
 * after Parameters is larger than the payload quota) and "Service quotas" (256 KiB per state
 * input/output, 25,000 history events). AWS's texts as executions report them: the cause
 * "The state/task '<name>' returned a result with a size exceeding the maximum number of bytes
 * service limit." and, at the history limit, error States.Runtime with the cause "The execution
 * reached the maximum number of history events (25000)." (quoted from AWS executions in
 * aws-samples/review-and-assessment-powered-by-intelligent-documentation#58 and loads/ardere#86).
 */

/** 256 KiB, measured as AWS does: the UTF-8 bytes of the JSON text. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
export const MAX_HISTORY_EVENTS = 25_000;

export const DATA_LIMIT_ERROR = 'States.DataLimitExceeded';
export const HISTORY_LIMIT_ERROR = 'States.Runtime';
export const HISTORY_LIMIT_CAUSE = `The execution reached the maximum number of history events (${MAX_HISTORY_EVENTS}).`;

export const resultTooLargeCause = (state: string): string =>
  `The state/task '${state}' returned a result with a size exceeding the maximum number of bytes service limit.`;

export const inputTooLargeCause = (state: string): string =>
  `The state/task '${state}' has an input with a size exceeding the maximum number of bytes service limit.`;

export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');

export const exceedsPayloadLimit = (value: unknown): boolean => jsonBytes(value) > MAX_PAYLOAD_BYTES;
