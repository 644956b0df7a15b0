/**
 * The product's CloudWatch metrics, written as embedded-metric-format log lines: Lambda's log
 * ingestion turns a line into metrics, so no function needs cloudwatch:PutMetricData (no
 * permission, no client). Values are counts, never a personal value.
 */
export const METRICS_NAMESPACE = 'SubjectRightsOrchestrator';

/** One EMF line with the given counts, all in the namespace, with no dimensions. */
export function metricLine(counts: Readonly<Record<string, number>>, now: Date): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now.getTime(),
      CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [[]], Metrics: Object.keys(counts).map((Name) => ({ Name, Unit: 'Count' })) }],
    },
    ...counts,
  });
}

/** Writes a metric line where Lambda's log ingestion reads it: only inside a Lambda function (locally it would be noise). */
export function emitMetricLine(line: string): void {
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) process.stdout.write(`${line}\n`);
}
