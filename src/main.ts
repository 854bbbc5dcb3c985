import pino from 'pino';
import { createChargegate } from './chargegate.ts';
import { ConfigError, loadConfig } from './config.ts';
import { MigrationError, migrateDatabase, openDatabase } from './db/database.ts';

/**
 * The process: the only place that reads the environment, listens, starts the worker and
 * handles signals. Shutdown runs in one order: stop taking requests and let those in flight
 * finish; stop the worker (attempts in flight finish, bounded; unfinished claims released);
 * commit what is queued; close the database; exit 0. A second signal exits at once.
 */

async function main(): Promise<void> {
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

  const log = pino({ level: config.logLevel, name: 'chargegate' });
  const db = openDatabase({ path: config.databasePath, sync: config.databaseSync });
  try {
    migrateDatabase(db);
  } catch (error) {
    if (error instanceof MigrationError) {
      log.fatal({ err: error.cause }, error.message);
      console.error(`chargegate: ${error.message}`);
      db.$client.close();
      process.exit(1);
    }
    throw error;
  }

  const chargegate = await createChargegate({ config, db, log, migrated: () => true });
  const { app, worker, retention } = chargegate;

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    shuttingDown = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(
      () => {
        log.error('shutdown took too long: exiting');
        process.exit(1);
      },
      config.shutdownTimeoutMs + config.callbackTimeoutMs + 5_000,
    );
    force.unref();
    try {
      await app.close();
      retention.stop();
      await worker.stop(config.shutdownTimeoutMs);
      await chargegate.groupCommit.flush();
      await chargegate.closeDispatchers();
      db.$client.close();
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  worker.start();
  retention.start();
  log.info(
    {
      database: config.databasePath,
      sync: config.databaseSync,
      authorizer: config.authorizerUrl ? 'remote' : 'built-in ACL',
      adminProcedures: config.adminToken ? 'enabled' : 'disabled (no ADMIN_TOKEN)',
    },
    'chargegate ready',
  );
}

main().catch((error: unknown) => {
  console.error('chargegate: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
