import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus metrics, on a registry of their own (no global state): one set per app.
 * `pending` reads the database at scrape time through `pendingSummary`.
 */

export type Metrics = ReturnType<typeof createMetrics>;

/** Held origins named in `chargegate_origin_breaker_open` at most; all are counted. */
export const LABELLED_ORIGINS_MAX = 20;

export type MetricsOptions = {
  /** Pending callbacks and the creation time of the oldest, read at scrape time. */
  pendingSummary: () => Promise<{ count: number; oldestCreatedAt: number | null }>;
  now: () => number;
  /** Default process metrics (CPU, memory, event loop); off in most tests. */
  processMetrics?: boolean;
};

export function createMetrics({ pendingSummary, now, processMetrics = true }: MetricsOptions) {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: 'chargegate_' });
  const registers = [registry];

  const metrics = {
    registry,
    httpRequests: new Counter({
      name: 'chargegate_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'chargegate_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method and route',
      labelNames: ['method', 'route'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    requestsCreated: new Counter({
      name: 'chargegate_requests_created_total',
      help: 'Charging session requests committed (idempotent replays not counted)',
      registers,
    }),
    decisions: new Counter({
      name: 'chargegate_decisions_total',
      help: 'Decisions made, by status, source and reason',
      labelNames: ['status', 'source', 'reason'] as const,
      registers,
    }),
    authorizerCalls: new Counter({
      name: 'chargegate_authorizer_calls_total',
      help: 'HTTP tries to the remote authorizer, by protocol and outcome: a decision reason, or why it was retried (5xx, status_3xxx, timeout, network)',
      labelNames: ['protocol', 'outcome'] as const,
      registers,
    }),
    authorizerCallDuration: new Histogram({
      name: 'chargegate_authorizer_call_duration_seconds',
      help: 'Time one HTTP try to the remote authorizer took, by protocol',
      labelNames: ['protocol'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    callbackAttempts: new Counter({
      name: 'chargegate_callback_attempts_total',
      help: 'Callback attempts, by outcome: 2xx, 3xx, 4xx, 5xx, timeout, network, refused, error',
      labelNames: ['outcome'] as const,
      registers,
    }),
    callbacksFinished: new Counter({
      name: 'chargegate_callbacks_finished_total',
      help: 'Callbacks that reached a final state, by state (delivered or failed)',
      labelNames: ['state'] as const,
      registers,
    }),
    deliveryLatency: new Histogram({
      name: 'chargegate_ack_to_delivered_seconds',
      help: 'Time from acknowledging a request to its callback being accepted',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 300, 3600, 36000],
      registers,
    }),
    claimBatchSize: new Histogram({
      name: 'chargegate_worker_claim_batch_size',
      help: 'Callbacks claimed at once by the worker (empty claims not counted)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    fencedWrites: new Counter({
      name: 'chargegate_claim_fenced_total',
      help: 'Attempt results refused because their claim had expired and the callback was claimed again',
      registers,
    }),
    commitBatchSize: new Histogram({
      name: 'chargegate_commit_batch_size',
      help: 'Writes sharing one database commit (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
  };

  const originsHeld = new Gauge({
    name: 'chargegate_origin_breakers_open',
    help: 'Callback origins whose circuit breaker holds their callbacks (open or probing)',
    registers,
  });
  const originHeld = new Gauge({
    name: 'chargegate_origin_breaker_open',
    help: `1 for a callback origin whose circuit breaker holds its callbacks; at most ${LABELLED_ORIGINS_MAX} origins are named`,
    labelNames: ['origin'] as const,
    registers,
  });
  /** Replaces the breaker gauges with the origins held now. */
  function reportHeldOrigins(origins: readonly string[]): void {
    originsHeld.set(origins.length);
    originHeld.reset();
    for (const origin of origins.slice(0, LABELLED_ORIGINS_MAX)) originHeld.set({ origin }, 1);
  }

  // Read once per scrape for both gauges. While the database is unavailable the gauges keep
  // their last values, so that the rest of the scrape (the errors, above all) still answers.
  let summary: Promise<{ count: number; oldestCreatedAt: number | null } | undefined> | undefined;
  const readSummary = () => {
    summary ??= pendingSummary()
      .catch(() => undefined)
      .finally(() => {
        setImmediate(() => {
          summary = undefined;
        });
      });
    return summary;
  };
  new Gauge({
    name: 'chargegate_callbacks_pending',
    help: 'Callbacks waiting for delivery (in flight or scheduled)',
    registers,
    async collect() {
      const read = await readSummary();
      if (read) this.set(read.count);
    },
  });
  new Gauge({
    name: 'chargegate_callbacks_oldest_pending_age_seconds',
    help: 'Age of the oldest request whose callback is still pending; 0 when none is',
    registers,
    async collect() {
      const read = await readSummary();
      if (!read) return;
      const oldest = read.oldestCreatedAt;
      this.set(oldest === null ? 0 : Math.max(0, (now() - oldest) / 1000));
    },
  });

  // The label children of the HTTP metrics, kept per method, route and status: without them
  // prom-client hashes the labels of both metrics on every request.
  const httpChildren = new Map<
    string,
    {
      requests: ReturnType<typeof metrics.httpRequests.labels>;
      duration: ReturnType<typeof metrics.httpDuration.labels>;
    }
  >();
  /** Records one answered HTTP request. Routes and statuses are few, so the map stays small. */
  function observeHttp(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let children = httpChildren.get(key);
    if (!children) {
      children = {
        requests: metrics.httpRequests.labels({ method, route, status: String(status) }),
        duration: metrics.httpDuration.labels({ method, route }),
      };
      httpChildren.set(key, children);
    }
    children.requests.inc();
    children.duration.observe(seconds);
  }

  return { ...metrics, reportHeldOrigins, observeHttp };
}
