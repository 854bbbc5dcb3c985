import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import type { Services } from './api/context.ts';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { createAddressPolicy } from './domain/address-policy.ts';
import { webhookSecretKey } from './domain/webhook-secret.ts';
import { createLoadMonitor } from './load-monitor.ts';
import type { Metrics } from './metrics.ts';
import type { Store } from './store/store.ts';
import { packageVersion } from './version.ts';
import { createAuthorizer } from './worker/authorizers/create-authorizer.ts';
import type { BreakerOptions } from './worker/circuit-breaker.ts';
import { createGuardedDispatcher } from './worker/guarded-dispatcher.ts';
import { createRetention, type Retention } from './worker/retention.ts';
import { createWorker, type Worker } from './worker/worker.ts';

/**
 * The composition root: every component built from a config, a migrated store and a logger.
 * Nothing here listens, starts a timer or reads the environment: `serve.ts` (through
 * `startBackground`) and the tests do that.
 */

export type Chargegate = {
  app: FastifyInstance;
  worker: Worker;
  retention: Retention;
  services: Services;
  metrics: Metrics;
  /** Starts the worker, retention and load monitoring. */
  startBackground(): void;
  /** Closes the HTTP dispatchers and timers (after the worker has stopped). */
  closeResources(): Promise<void>;
};

export type ChargegateDeps = {
  config: Config;
  store: Store;
  log: Logger;
  now?: () => number;
  random?: () => number;
  /** Whether this process runs the worker; readiness waits for it only then. */
  runsWorker?: boolean;
  /** Replaces the load monitor's verdict (tests). */
  underPressure?: () => boolean;
  /** Replaces the circuit breakers' thresholds (tests). */
  breaker?: BreakerOptions;
  /** Made before the store, so that the store reports its commits to them. */
  metrics: Metrics;
};

export async function createChargegate({
  config,
  store,
  log,
  now = Date.now,
  random = Math.random,
  runsWorker = true,
  underPressure,
  breaker,
  metrics,
}: ChargegateDeps): Promise<Chargegate> {
  const loadMonitor = createLoadMonitor();

  const callbackDispatcher = createGuardedDispatcher({
    policy: createAddressPolicy(config.callbackAllowedCidrs),
    connectTimeoutMs: config.callbackTimeoutMs,
    // The worker never has more attempts in flight to one origin, so the pool matches.
    connectionsPerOrigin: config.callbackConcurrencyPerOrigin,
    onRefused: (error) =>
      log.warn(
        { range: error.verdict.range, kind: error.verdict.kind },
        `callback refused: ${error.message}`,
      ),
  });
  const authorizerDispatcher: Agent | undefined = config.authorizerUrl
    ? new Agent({ keepAliveTimeout: 4_000, connections: config.workerConcurrency })
    : undefined;
  const protocol = config.authorizerProtocol;
  const authorizer = createAuthorizer({
    remote:
      config.authorizerUrl && authorizerDispatcher
        ? {
            protocol,
            url: config.authorizerUrl,
            timeoutMs: config.authorizerTimeoutMs,
            dispatcher: authorizerDispatcher,
            token: config.authorizerToken,
            tokenType: config.authorizerTokenType,
            log: log.child({ component: 'authorizer' }),
            observe: ({ outcome, seconds }) => {
              metrics.authorizerCalls.inc({ protocol, outcome });
              metrics.authorizerCallDuration.observe({ protocol }, seconds);
            },
          }
        : undefined,
  });

  const worker = createWorker({
    leaseMs: config.workerLeaseMs,
    queue: store.queue,
    authorizer,
    dispatcher: callbackDispatcher,
    signingKey: webhookSecretKey(config.webhookSecret ?? (await store.webhookSecret())),
    callbackTimeoutMs: config.callbackTimeoutMs,
    retrySchedule: config.callbackRetrySchedule,
    userAgent: `chargegate/${packageVersion()} (+https://www.standardwebhooks.com)`,
    now,
    random,
    log: log.child({ component: 'worker' }),
    metrics,
    concurrency: config.workerConcurrency,
    perOriginConcurrency: config.callbackConcurrencyPerOrigin,
    breaker,
    pollIntervalMs: config.workerPollIntervalMs,
    underPressure: underPressure ?? loadMonitor.underPressure,
  });
  const retention = createRetention({
    store: store.retention,
    retentionDays: config.retentionDays,
    now,
    log: log.child({ component: 'retention' }),
  });

  store.onCommitted(() => worker.wake());
  const services: Services = {
    requests: store.requests,
    drivers: store.drivers,
    now,
    onCreated: () => metrics.requestsCreated.inc(),
    adminToken: config.adminToken,
    wakeWorker: () => worker.wake(),
  };

  const app = await buildApp({
    services,
    log,
    version: packageVersion(),
    metrics,
    metricsToken: config.metricsToken,
    limits: { requestTimeoutMs: config.requestTimeoutMs, maxConnections: config.maxConnections },
    onRequest: loadMonitor.requestStarted,
    readiness: async () => ({
      ...(await store.health()),
      worker: runsWorker ? worker.running : true,
    }),
  });

  return {
    app,
    worker,
    retention,
    services,
    metrics,
    startBackground() {
      loadMonitor.start();
      worker.start();
      retention.start();
    },
    async closeResources() {
      loadMonitor.stop();
      const close = (dispatcher: Agent | undefined) =>
        dispatcher && !dispatcher.destroyed ? dispatcher.close() : undefined;
      await Promise.all([close(callbackDispatcher), close(authorizerDispatcher)]);
    },
  };
}
