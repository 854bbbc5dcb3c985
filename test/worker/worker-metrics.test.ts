import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.ts';
import {
  applyMetricReports,
  createForwardedMetrics,
  type MetricReport,
} from '../../src/worker/worker-metrics.ts';

describe('metrics forwarded from the worker thread', () => {
  it('replay on the real metrics as if the worker had reported there', async () => {
    const batches: MetricReport[][] = [];
    const forwarded = createForwardedMetrics((reports) => batches.push(structuredClone(reports)));
    forwarded.decisions.inc({ status: 'allowed', source: 'acl', reason: 'granted' });
    forwarded.decisions.inc({ status: 'allowed', source: 'acl', reason: 'granted' });
    forwarded.callbackAttempts.inc({ outcome: '2xx' });
    forwarded.deliveryLatency.observe(0.004);
    forwarded.claimBatchSize.observe(7);
    forwarded.fencedWrites.inc();
    forwarded.authorizerCallDuration.observe({ protocol: 'ocpi-2.2.1' }, 0.2);
    forwarded.reportHeldOrigins(['https://a.example']);
    expect(batches).toEqual([]); // held until the interval or flushNow()
    forwarded.flushNow();
    expect(batches).toHaveLength(1);

    const metrics = createMetrics({
      pendingSummary: async () => ({ count: 0, oldestCreatedAt: null }),
      now: Date.now,
      processMetrics: false,
    });
    for (const batch of batches) applyMetricReports(metrics, batch);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'chargegate_decisions_total{status="allowed",source="acl",reason="granted"} 2',
    );
    expect(text).toContain('chargegate_callback_attempts_total{outcome="2xx"} 1');
    expect(text).toContain('chargegate_ack_to_delivered_seconds_count 1');
    expect(text).toContain('chargegate_worker_claim_batch_size_sum 7');
    expect(text).toContain('chargegate_claim_fenced_total 1');
    expect(text).toContain(
      'chargegate_authorizer_call_duration_seconds_count{protocol="ocpi-2.2.1"} 1',
    );
    expect(text).toContain('chargegate_origin_breaker_open{origin="https://a.example"} 1');
  });

  it('flush on their own after the interval, counts summed per counter and labels', async () => {
    const batches: MetricReport[][] = [];
    const forwarded = createForwardedMetrics((reports) => batches.push(reports), 10);
    forwarded.fencedWrites.inc();
    forwarded.fencedWrites.inc();
    for (let i = 0; i < 3; i++) forwarded.callbackAttempts.inc({ outcome: '2xx' });
    forwarded.callbackAttempts.inc({ outcome: '5xx' });
    forwarded.reportHeldOrigins(['https://a.example']);
    forwarded.reportHeldOrigins([]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(batches).toEqual([
      [
        ['fencedWrites', 'inc', [2]],
        ['callbackAttempts', 'inc', [{ outcome: '2xx' }, 3]],
        ['callbackAttempts', 'inc', [{ outcome: '5xx' }, 1]],
        ['reportHeldOrigins', '', [[]]],
      ],
    ]);
  });
});
