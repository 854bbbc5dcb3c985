import type { DecisionReason, DecisionSource, DecisionStatus } from '../domain/decision.ts';

/**
 * What the callback worker reports to the metrics: the part of `Metrics` (prom-client, on the
 * main thread) that it touches. In the worker's own thread the same shape forwards every report
 * to the main thread in batches (`createForwardedMetrics`), where `applyMetricReports` replays
 * them on the real ones; so the worker's code is the same on either side.
 */
export type WorkerMetrics = {
  decisions: {
    inc(labels: { status: DecisionStatus; source: DecisionSource; reason: DecisionReason }): void;
  };
  callbackAttempts: { inc(labels: { outcome: string }): void };
  callbacksFinished: { inc(labels: { state: 'delivered' | 'failed' }): void };
  deliveryLatency: { observe(seconds: number): void };
  claimBatchSize: { observe(size: number): void };
  fencedWrites: { inc(): void };
  authorizerCalls: { inc(labels: { protocol: string; outcome: string }): void };
  authorizerCallDuration: { observe(labels: { protocol: string }, seconds: number): void };
  reportHeldOrigins(origins: readonly string[]): void;
};

/** The outcome label of an attempt: 2xx, 3xx, 4xx, 5xx, or how it failed without an answer. */
export function outcomeLabel(outcome: { kind: string; status?: number }): string {
  if (outcome.status !== undefined) return `${Math.floor(outcome.status / 100)}xx`;
  return outcome.kind;
}

/** One report: which metric, which of its methods, and the arguments. */
export type MetricReport = [name: keyof WorkerMetrics, method: string, args: unknown[]];

/**
 * Metrics that record every report and hand them to `flush` at most every `intervalMs` (and on
 * `flushNow()`), as plain data that crosses threads.
 */
export function createForwardedMetrics(
  flush: (reports: MetricReport[]) => void,
  intervalMs = 250,
): WorkerMetrics & { flushNow(): void } {
  let pending: MetricReport[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flushNow = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const reports = pending;
    pending = [];
    flush(reports);
  };
  const record =
    (name: keyof WorkerMetrics, method: string) =>
    (...args: unknown[]) => {
      pending.push([name, method, args]);
      if (!timer) {
        timer = setTimeout(flushNow, intervalMs);
        timer.unref();
      }
    };
  return {
    decisions: { inc: record('decisions', 'inc') },
    callbackAttempts: { inc: record('callbackAttempts', 'inc') },
    callbacksFinished: { inc: record('callbacksFinished', 'inc') },
    deliveryLatency: { observe: record('deliveryLatency', 'observe') },
    claimBatchSize: { observe: record('claimBatchSize', 'observe') },
    fencedWrites: { inc: record('fencedWrites', 'inc') },
    authorizerCalls: { inc: record('authorizerCalls', 'inc') },
    authorizerCallDuration: { observe: record('authorizerCallDuration', 'observe') },
    reportHeldOrigins: record('reportHeldOrigins', ''),
    flushNow,
  };
}

/** Replays forwarded reports on the real metrics. */
export function applyMetricReports(metrics: WorkerMetrics, reports: readonly MetricReport[]): void {
  for (const [name, method, args] of reports) {
    const target = metrics[name] as unknown as Record<string, (...a: unknown[]) => void> &
      ((...a: unknown[]) => void);
    if (method === '') target(...args);
    else target[method]?.(...args);
  }
}
