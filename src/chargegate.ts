import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Services } from './api/context.ts';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { createLoadMonitor } from './load-monitor.ts';
import type { Metrics } from './metrics.ts';
import type { Store } from './store/store.ts';
import { packageVersion } from './version.ts';
import { callbackWorkerSettings } from './worker/callback-worker-settings.ts';
import type { BreakerOptions } from './worker/circuit-breaker.ts';
import { createRetention, type Retention } from './worker/retention.ts';
import { startThreadedWorker } from './worker/threaded-worker.ts';
import type { Worker } from './worker/worker.ts';

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
  /**
   * Run the callback worker in a thread of its own where the store can share its queue with one
   * (a SQLite file); else, and by default, on the event loop.
   */
  workerThread?: boolean;
  /**
   * With `workerThread`, lower that thread's CPU priority to `config.workerNice`, so that under a
   * load that wants every core the kernel serves HTTP requests and their commits first (for a
   * process that serves HTTP).
   */
  lowPriorityWorker?: boolean;
  /** The worker's thread failed while running (`workerThread`): the process should end. */
  onWorkerFailure?: (error: Error) => void;
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
  workerThread = false,
  lowPriorityWorker = false,
  onWorkerFailure = (error) => log.fatal({ err: error }, 'the callback worker failed'),
}: ChargegateDeps): Promise<Chargegate> {
  const loadMonitor = createLoadMonitor();

  const settings = callbackWorkerSettings(
    config,
    config.webhookSecret ?? (await store.webhookSecret()),
    `chargegate/${packageVersion()} (+https://www.standardwebhooks.com)`,
  );
  const pressure = underPressure ?? loadMonitor.underPressure;
  const share = workerThread && runsWorker ? store.shareQueue() : undefined;
  const { worker, close: closeWorker } = share
    ? await startThreadedWorker({
        settings,
        queue: share,
        log,
        metrics,
        underPressure: pressure,
        nice: lowPriorityWorker ? config.workerNice : 0,
        onFailure: onWorkerFailure,
      })
    : // Loaded only here: where the worker has a thread of its own, its HTTP client and
      // authorizers stay out of the main thread.
      await (await import('./worker/callback-worker.ts')).createCallbackWorker({
        settings,
        queue: store.queue,
        log,
        metrics,
        now,
        random,
        underPressure: pressure,
        breaker,
      });
  const retention = createRetention({
    store: store.retention,
    retentionDays: config.retentionDays,
    now,
    log: log.child({ component: 'retention' }),
  });

  // A worker in its own thread hears of new requests from the writer thread itself.
  if (!share) store.onCommitted(() => worker.wake());
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
      await closeWorker();
    },
  };
}
