/**
 * The deadline alarm: the daily sweep's first Task counts the open requests that are overdue
 * or due within `settings.deadlines.nearingDays` and writes them as an embedded-metric-format
 * log line (functions/core/deadlines.ts), so no function needs cloudwatch:PutMetricData. The
 * alarm fires while that count is at least one; a missing day (no sweep ran) does not breach,
 * the sweep machine's own alarm covers a sweep that failed. The log-erasure machine writes the
 * count of queued log erasures past their deadline the same way (logErasureOverdueAlarm).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DeadlineSettingsSchema } from '../functions/core/deadline-settings';
import { DEADLINE_METRICS } from '../functions/core/deadlines';
import { LOG_QUEUE_METRICS } from '../functions/core/log-queue';
import { METRICS_NAMESPACE } from '../functions/core/metrics';

export function deadlineAlarm(scope: Construct, topic?: sns.ITopic, nearingDays = DeadlineSettingsSchema.parse({}).nearingDays): cloudwatch.Alarm {
  return countAlarm(scope, 'RequestsNearingDeadline', `Requests overdue or nearing their statutory deadline (PIPEDA s.8(3)): npx dsr requests --due-within ${nearingDays}d --overdue`, DEADLINE_METRICS.nearing, topic);
}

/**
 * Queued log erasures past their request's statutory deadline: the request answered, its big
 * log stores still to be erased by a pass that has not run or keeps postponing them (a hold,
 * another erasure of the subject). Each run of the log-erasure machine writes the count.
 */
export function logErasureOverdueAlarm(scope: Construct, topic?: sns.ITopic): cloudwatch.Alarm {
  return countAlarm(scope, 'LogErasuresOverdue', 'Queued log erasures past their statutory deadline: npx dsr logs queue, then npx dsr logs erase-pending', LOG_QUEUE_METRICS.overdue, topic);
}

/** Fires while a daily count (an EMF metric of the product's namespace) is at least one; a day with no line does not breach. */
function countAlarm(scope: Construct, id: string, description: string, metricName: string, topic?: sns.ITopic): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmDescription: description,
    metric: new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, statistic: 'Maximum', period: Duration.days(1) }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  if (topic) alarm.addAlarmAction(new actions.SnsAction(topic));
  return alarm;
}
