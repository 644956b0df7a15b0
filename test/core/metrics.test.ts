import { logQueueCounts, type QueuedLogErasure } from '../../functions/core/log-queue';
import { metricLine, METRICS_NAMESPACE } from '../../functions/core/metrics';

describe('the metric lines CloudWatch reads from the logs (embedded metric format)', () => {
  test('one line: every count a metric of the namespace, no dimension, the values beside', () => {
    const line = JSON.parse(metricLine({ LogErasuresQueued: 3, LogErasuresOverdue: 1 }, new Date('2026-12-03T00:00:00Z'))) as Record<string, unknown>;
    expect(line).toEqual({
      _aws: { Timestamp: Date.parse('2026-12-03T00:00:00Z'), CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [[]], Metrics: [{ Name: 'LogErasuresQueued', Unit: 'Count' }, { Name: 'LogErasuresOverdue', Unit: 'Count' }] }] },
      LogErasuresQueued: 3,
      LogErasuresOverdue: 1,
    });
  });

  test('the queue check counts open log erasures and those past their deadline; done ones count for neither', () => {
    const entry = (requestId: string, status: QueuedLogErasure['status'], dueBy: string): QueuedLogErasure => ({ requestId, store: 'sip-logs', status, queuedAt: '2026-11-01T00:00:00Z', dueBy, planHash: 'h' });
    const now = new Date('2026-12-03T12:00:00Z');
    const queue = [
      entry('a', 'pending', '2026-12-03T11:59:59Z'),
      entry('b', 'running', '2026-12-01T00:00:00Z'),
      entry('c', 'pending', '2026-12-03T12:00:01Z'),
      entry('d', 'done', '2026-11-01T00:00:00Z'),
    ];
    expect(logQueueCounts(queue, now)).toEqual({ queued: 3, overdue: 2 });
    expect(logQueueCounts([], now)).toEqual({ queued: 0, overdue: 0 });
  });
});
