import pino from 'pino';
import { createChargegate } from './chargegate.ts';
import { ConfigError, loadConfig } from './config.ts';
import { trackConnections } from './connection-drain.ts';
import { logDestination } from './log-destination.ts';
import { createMetrics } from './metrics.ts';
import { MigrationError } from './store/migration-error.ts';
import { openStore } from './store/open-store.ts';

/**
 * Running chargegate as a process: the only code that reads the environment, listens, starts the
 * worker and handles signals. Shutdown runs in one order: stop taking requests, close idle and
 * stalled connections and let requests that have arrived finish; stop the worker (attempts in
 * flight finish; unfinished claims are released); commit what is queued; close the database;
 * exit 0. The first two steps share one SHUTDOWN_TIMEOUT_MS. A second signal exits at once.
 */

export type ServeOptions = {
  /** Serve HTTP (the API, health, metrics). */
  http: boolean;
  /** Run the callback worker and retention. */
  worker: boolean;
};

export async function serve({ http, worker: runWorker }: ServeOptions): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`chargegate: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }

  // One write of every line of a turn at once (see log-destination.ts). Flushed on every orderly
  // exit.
  const destination = logDestination(1);
  const log = pino({ level: config.logLevel, name: 'chargegate' }, destination);
  const exit = (code: number): never => {
    destination.flushSync();
    process.exit(code);
  };
  const metrics = createMetrics({
    pendingSummary: () => store.requests.pendingSummary(),
    now: Date.now,
  });
  const store = openStore(config, {
    onCommitBatch: (size) => metrics.commitBatchSize.observe(size),
    onError: (error) => log.error({ err: error }, `database: ${error.message}`),
  });
  try {
    await store.migrate();
  } catch (error) {
    if (error instanceof MigrationError) {
      log.fatal({ err: error.cause }, error.message);
      console.error(`chargegate: ${error.message}`);
      await store.close().catch(() => undefined);
      exit(1);
    }
    throw error;
  }

  const chargegate = await createChargegate({
    config,
    store,
    log,
    metrics,
    runsWorker: runWorker,
    // Off the event loop that serves HTTP, where the database allows it (a SQLite file), and
    // below it and the writer in the kernel's eyes when both run in this process.
    workerThread: true,
    lowPriorityWorker: http,
    onWorkerFailure: (error) => {
      log.fatal({ err: error }, 'the callback worker failed');
      exit(1);
    },
  });
  const { app, worker, retention } = chargegate;
  const connections = trackConnections(app.server);

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) {
      log.warn({ signal }, 'second signal: exiting now');
      exit(1);
    }
    shuttingDown = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(
      () => {
        log.error('shutdown took too long: exiting');
        exit(1);
      },
      config.shutdownTimeoutMs + config.callbackTimeoutMs + 5_000,
    );
    force.unref();
    const deadline = Date.now() + config.shutdownTimeoutMs;
    try {
      const closed = await connections.close(app, config.shutdownTimeoutMs);
      if (closed.idle + closed.arriving > 0) {
        log.info(closed, 'closed connections without a complete request');
      }
      retention.stop();
      await worker.stop(Math.max(0, deadline - Date.now()));
      await chargegate.closeResources();
      await store.close();
      log.info('stopped');
      exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      exit(1);
    }
  };
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'uncaught exception');
    exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled rejection');
    exit(1);
  });
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  if (http) {
    try {
      await app.listen({ port: config.port, host: config.host });
    } catch (error) {
      const reason = (error as Error).message;
      log.fatal({ err: error }, 'cannot listen');
      console.error(
        `chargegate: cannot listen on HOST=${config.host} PORT=${config.port}: ${reason}`,
      );
      exit(1);
    }
  }
  if (runWorker) chargegate.startBackground();
  log.info(
    {
      http: http ? 'on' : 'off',
      worker: runWorker ? 'on' : 'off',
      database: `${store.kind} ${store.location}`,
      sync: config.databaseSync,
      authorizer: config.authorizerUrl ? 'remote' : 'built-in ACL',
      adminProcedures: config.adminToken ? 'enabled' : 'disabled (no ADMIN_TOKEN)',
    },
    'chargegate ready',
  );
}
