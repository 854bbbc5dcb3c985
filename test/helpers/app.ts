import pino, { type Logger } from 'pino';
import { type Chargegate, createChargegate } from '../../src/chargegate.ts';
import type { Config } from '../../src/config.ts';
import { type Database, migrateDatabase, openDatabase } from '../../src/db/database.ts';
import { testConfig } from './config.ts';

export type TestService = Chargegate & { db: Database; config: Config; close(): Promise<void> };

/** A migrated database: in memory unless a path is given. */
export function migratedDatabase(path = ':memory:'): Database {
  const db = openDatabase({ path, sync: 'normal' });
  migrateDatabase(db);
  return db;
}

/**
 * The whole service on a migrated database, unstarted: `app.inject` works at once; call
 * `worker.start()` to have callbacks delivered. `close()` stops everything.
 */
export async function buildService(
  options: {
    env?: Record<string, string>;
    db?: Database;
    now?: () => number;
    random?: () => number;
    log?: Logger;
    processMetrics?: boolean;
    underPressure?: () => boolean;
  } = {},
): Promise<TestService> {
  const config = testConfig(options.env);
  const db = options.db ?? migratedDatabase();
  const chargegate = await createChargegate({
    config,
    db,
    log: options.log ?? pino({ level: 'silent' }),
    now: options.now,
    random: options.random,
    processMetrics: options.processMetrics ?? false,
    underPressure: options.underPressure,
  });
  let closed = false;
  return {
    ...chargegate,
    db,
    config,
    async close() {
      if (closed) return;
      closed = true;
      await chargegate.app.close();
      chargegate.retention.stop();
      await chargegate.worker.stop(1_000);
      await chargegate.groupCommit.flush();
      await chargegate.closeResources();
      if (!options.db) db.$client.close();
    },
  };
}

/** A logger whose lines are kept as parsed objects. */
export function capturingLogger(level = 'info'): {
  log: Logger;
  lines: Array<Record<string, unknown>>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level },
    {
      write(line: string) {
        lines.push(JSON.parse(line));
      },
    },
  );
  return { log, lines };
}

export const validRequest = (overrides: Record<string, unknown> = {}) => ({
  stationId: '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50',
  driverId: 'DRV-0001-ab.cd_ef~0123',
  callbackUrl: 'https://backend.example.com/chargegate/decisions',
  ...overrides,
});

/** POSTs a create through the REST door (a string body is sent as it is). */
export function postCreate(
  service: Pick<TestService, 'app'>,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return service.app.inject({
    method: 'POST',
    url: '/api/charging-session-requests',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
