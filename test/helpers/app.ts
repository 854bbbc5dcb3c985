import pino, { type Logger } from 'pino';
import { type Chargegate, createChargegate } from '../../src/chargegate.ts';
import type { Config } from '../../src/config.ts';
import { createMetrics } from '../../src/metrics.ts';
import type { ClaimOptions, ClaimResult, Store } from '../../src/store/store.ts';
import type { BreakerOptions } from '../../src/worker/circuit-breaker.ts';
import { testConfig } from './config.ts';
import { type TestDatabase, type TestSql, testDatabase } from './database.ts';

export type TestService = Chargegate & {
  store: Store;
  sql: TestSql;
  database: TestDatabase;
  config: Config;
  close(): Promise<void>;
};

/**
 * The whole service on a fresh migrated database (or `database`, shared with other services),
 * unstarted: `app.inject` works at once; call `worker.start()` to have callbacks delivered.
 * `close()` stops everything.
 */
export async function buildService(
  options: {
    env?: Record<string, string>;
    database?: TestDatabase;
    now?: () => number;
    random?: () => number;
    log?: Logger;
    processMetrics?: boolean;
    underPressure?: () => boolean;
    breaker?: BreakerOptions;
    /** Run the worker in its own thread, as `npm start` does (a SQLite file only). */
    workerThread?: boolean;
    /** Run that thread at `WORKER_NICE`, as `npm start` does. */
    lowPriorityWorker?: boolean;
  } = {},
): Promise<TestService> {
  const config = testConfig(options.env);
  const database = options.database ?? (await testDatabase());
  const processMetrics = options.processMetrics ?? false;
  const metrics = createMetrics({
    pendingSummary: () => store.requests.pendingSummary(),
    now: options.now ?? Date.now,
    processMetrics,
  });
  const log = options.log ?? pino({ level: 'silent' });
  const store = database.openStore({
    now: options.now,
    onCommitBatch: (size) => metrics.commitBatchSize.observe(size),
    onError: (error) => log.error({ err: error }, `database: ${error.message}`),
  });
  const chargegate = await createChargegate({
    config,
    store,
    log,
    now: options.now,
    random: options.random,
    metrics,
    underPressure: options.underPressure,
    breaker: options.breaker,
    workerThread: options.workerThread,
    lowPriorityWorker: options.lowPriorityWorker,
  });
  let closed = false;
  return {
    ...chargegate,
    store,
    sql: database.sql,
    database,
    config,
    async close() {
      if (closed) return;
      closed = true;
      await chargegate.app.close();
      chargegate.retention.stop();
      await chargegate.worker.stop(1_000);
      await chargegate.closeResources();
      await store.close();
      if (!options.database) await database.drop();
    },
  };
}

/** Calls `seen` with every claim the service's worker makes, after it has committed. */
export function watchClaims(
  service: TestService,
  seen: (options: ClaimOptions, claimed: ClaimResult[]) => void,
): void {
  const { queue } = service.store;
  const claimDue = queue.claimDue.bind(queue);
  queue.claimDue = async (options) => {
    const claimed = await claimDue(options);
    seen(options, claimed);
    return claimed;
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
