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
 * `flushNow()`), as plain data that crosses threads. Counts are summed per counter and labels
 * before they go, so the main thread replays one `inc` per counter and label set, not one per
 * callback; observations go one by one, as a histogram needs them.
 */
export function createForwardedMetrics(
  flush: (reports: MetricReport[]) => void,
  intervalMs = 250,
): WorkerMetrics & { flushNow(): void } {
  let observed: MetricReport[] = [];
  /** Sums of counter increments, by counter and labels. */
  let counted = new Map<string, { name: keyof WorkerMetrics; labels: unknown; count: number }>();
  let held: readonly string[] | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flushNow = () => {
    clearTimeout(timer);
    timer = undefined;
    const reports = observed;
    for (const { name, labels, count } of counted.values()) {
      reports.push([name, 'inc', labels === undefined ? [count] : [labels, count]]);
    }
    if (held) reports.push(['reportHeldOrigins', '', [held]]);
    observed = [];
    counted = new Map();
    held = undefined;
    if (reports.length > 0) flush(reports);
  };
  const later = () => {
    if (timer) return;
    timer = setTimeout(flushNow, intervalMs);
    timer.unref();
  };
  const count =
    (name: keyof WorkerMetrics) =>
    (labels?: object): void => {
      const key = labels === undefined ? name : `${name} ${JSON.stringify(labels)}`;
      const entry = counted.get(key);
      if (entry) entry.count++;
      else counted.set(key, { name, labels, count: 1 });
      later();
    };
  const observe =
    (name: keyof WorkerMetrics) =>
    (...args: unknown[]): void => {
      observed.push([name, 'observe', args]);
      later();
    };
  return {
    decisions: { inc: count('decisions') },
    callbackAttempts: { inc: count('callbackAttempts') },
    callbacksFinished: { inc: count('callbacksFinished') },
    deliveryLatency: { observe: observe('deliveryLatency') },
    claimBatchSize: { observe: observe('claimBatchSize') },
    fencedWrites: { inc: count('fencedWrites') },
    authorizerCalls: { inc: count('authorizerCalls') },
    authorizerCallDuration: { observe: observe('authorizerCallDuration') },
    reportHeldOrigins(origins) {
      // Only the latest set of held origins matters.
      held = [...origins];
      later();
    },
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
