/**
 * AWS list prices the bench's cost figures use: one copy for the engine bench and the log-pass
 * model. us-east-1, USD; ca-central-1 is the same for these four services' rates used here.
 * Free tiers ignored. Check them before relying on a figure; they change rarely.
 */
export const PRICES = {
  recordedOn: '2026-12-03',
  region: 'us-east-1',
  /** The construct deploys every function on Arm (infra/functions.ts): Graviton duration price, first 7.5 billion GB-s a month. */
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** Standard workflows; a Distributed Map's child executions are Standard executions billed the same way. */
  stepFunctionsTransition: 0.025 / 1000,
  /** S3 Standard, GET / HEAD / SELECT. */
  s3Get: 0.0004 / 1000,
  /** S3 Standard, PUT / COPY / POST / LIST (one price tier). DELETE is free. */
  s3Put: 0.005 / 1000,
  s3List: 0.005 / 1000,
  sources: {
    lambda: 'https://aws.amazon.com/lambda/pricing/ (Arm $0.0000133334 per GB-second, x86 $0.0000166667; $0.20 per 1M requests)',
    stepFunctions: 'https://aws.amazon.com/step-functions/pricing/ ($0.025 per 1,000 state transitions)',
    s3: 'https://aws.amazon.com/s3/pricing/ (S3 Standard: PUT, COPY, POST, LIST $0.005 per 1,000; GET, SELECT and all other requests $0.0004 per 1,000; DELETE free)',
  },
} as const;
