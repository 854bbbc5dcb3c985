import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Agent } from 'undici';
import type { Services } from './api/context.ts';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import { WORKER_LEASE_MS } from './config.ts';
import {
  appliedMigrationCount,
  type Database,
  isDatabaseOpen,
  shippedMigrations,
} from './db/database.ts';
import { createDriverQueries } from './db/drivers.ts';
import { createGroupCommit, type GroupCommit } from './db/group-commit.ts';
import { createIdempotencyKeyQueries } from './db/idempotency-keys.ts';
import { createIntake } from './db/request-intake.ts';
import { createRequestQueries } from './db/requests.ts';
import { resolveWebhookSecret } from './db/settings.ts';
import { createStatsQueries } from './db/stats.ts';
import { createAddressPolicy } from './domain/address-policy.ts';
import { webhookSecretKey } from './domain/webhook-secret.ts';
import { createLoadMonitor } from './load-monitor.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { packageVersion } from './version.ts';
import { createAclAuthorizer, createRemoteAuthorizer } from './worker/authorizer.ts';
import { createGuardedDispatcher } from './worker/guarded-dispatcher.ts';
import { createRetention, type Retention } from './worker/retention.ts';
import { createWorker, type Worker } from './worker/worker.ts';

/**
 * The composition root: every component built from a config, a migrated database and a logger.
 * Nothing here listens, starts a timer or reads the environment: `serve.ts` (through
 * `startBackground`) and the tests do that.
 */

export type Chargegate = {
  app: FastifyInstance;
  worker: Worker;
  retention: Retention;
  services: Services;
  metrics: Metrics;
  groupCommit: GroupCommit;
  /** Starts the worker, retention and load monitoring. */
  startBackground(): void;
  /** Closes the HTTP dispatchers and timers (after the worker has stopped). */
  closeResources(): Promise<void>;
};

export type ChargegateDeps = {
  config: Config;
  db: Database;
  log: Logger;
  now?: () => number;
  random?: () => number;
  /** Default process metrics; tests that build many apps turn them off. */
  processMetrics?: boolean;
  /** Whether this process runs the worker; readiness waits for it only then. */
  runsWorker?: boolean;
  /** Replaces the load monitor's verdict (tests). */
  underPressure?: () => boolean;
};

export async function createChargegate({
  config,
  db,
  log,
  now = Date.now,
  random = Math.random,
  processMetrics = true,
  runsWorker = true,
  underPressure,
}: ChargegateDeps): Promise<Chargegate> {
  const shipped = shippedMigrations().length;
  const requests = createRequestQueries(db);
  const idempotencyKeys = createIdempotencyKeyQueries(db);
  const drivers = createDriverQueries(db);
  const metrics = createMetrics({ pendingSummary: requests.pendingSummary, now, processMetrics });
  const loadMonitor = createLoadMonitor();
  const groupCommit = createGroupCommit({
    db,
    onBatch: (size) => metrics.commitBatchSize.observe(size),
  });

  const callbackDispatcher = createGuardedDispatcher({
    policy: createAddressPolicy(config.callbackAllowedCidrs),
    connectTimeoutMs: config.callbackTimeoutMs,
    connectionsPerOrigin: config.workerConcurrency,
    onRefused: (error) =>
      log.warn(
        { range: error.verdict.range, kind: error.verdict.kind },
        `callback refused: ${error.message}`,
      ),
  });
  const authorizerDispatcher: Agent | undefined = config.authorizerUrl
    ? new Agent({ keepAliveTimeout: 4_000, connections: config.workerConcurrency })
    : undefined;
  const authorizer =
    config.authorizerUrl && authorizerDispatcher
      ? createRemoteAuthorizer({
          url: config.authorizerUrl,
          timeoutMs: config.authorizerTimeoutMs,
          dispatcher: authorizerDispatcher,
        })
      : createAclAuthorizer(drivers, now);

  const worker = createWorker({
    leaseMs: WORKER_LEASE_MS,
    requests,
    groupCommit,
    authorizer,
    dispatcher: callbackDispatcher,
    signingKey: webhookSecretKey(resolveWebhookSecret(db, config.webhookSecret)),
    callbackTimeoutMs: config.callbackTimeoutMs,
    retrySchedule: config.callbackRetrySchedule,
    userAgent: `chargegate/${packageVersion()} (+https://www.standardwebhooks.com)`,
    now,
    random,
    log: log.child({ component: 'worker' }),
    metrics,
    concurrency: config.workerConcurrency,
    pollIntervalMs: config.workerPollIntervalMs,
    underPressure: underPressure ?? loadMonitor.underPressure,
  });
  const retention = createRetention({
    requests,
    idempotencyKeys,
    retentionDays: config.retentionDays,
    now,
    log: log.child({ component: 'retention' }),
  });

  const intake = createIntake({
    groupCommit,
    requests,
    idempotencyKeys,
    now,
    onCommitted: () => {
      metrics.requestsCreated.inc();
      worker.wake();
    },
  });
  const services: Services = {
    intake,
    requests,
    drivers,
    stats: createStatsQueries(db),
    now,
    adminToken: config.adminToken,
    wakeWorker: () => worker.wake(),
  };

  const app = await buildApp({
    services,
    log,
    version: packageVersion(),
    metrics,
    metricsToken: config.metricsToken,
    onRequest: loadMonitor.requestStarted,
    readiness: () => {
      const open = isDatabaseOpen(db);
      return {
        database: open,
        migrations: open && appliedMigrationCount(db) >= shipped,
        worker: runsWorker ? worker.running : true,
      };
    },
  });

  return {
    app,
    worker,
    retention,
    services,
    metrics,
    groupCommit,
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
