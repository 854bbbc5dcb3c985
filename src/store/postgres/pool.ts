import pg from 'pg';

/**
 * Connections to PostgreSQL. BIGINT columns hold epoch milliseconds and fencing tokens, far below
 * 2^53, so they are read as numbers. An idle connection that breaks (the server restarted) is
 * dropped by the pool, which connects again on the next query: the error is reported, never
 * thrown at the process.
 */

const INT8 = 20;
export const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export type PoolOptions = {
  url: string;
  size: number;
  onError: (error: Error) => void;
};

/** How long to wait for a connection before answering that the database is unavailable. */
export const CONNECT_TIMEOUT_MS = 3_000;

export function createPool({ url, size, onError }: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: size,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    types,
    application_name: 'chargegate',
  });
  pool.on('error', onError);
  // A connection broken while checked out (the server terminated it between two statements)
  // emits 'error' on its client, where the pool does not listen: without this listener the
  // process would crash. The statement in progress, if any, fails on its own.
  pool.on('connect', (client) => {
    client.on('error', onError);
  });
  return pool;
}

/** A client of its own, outside the pool: LISTEN keeps one open for as long as it runs. */
export function createClient(url: string): pg.Client {
  return new pg.Client({ connectionString: url, types, application_name: 'chargegate-listen' });
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53100', // disk_full
  '53200', // out_of_memory
  '53300', // too_many_connections
  '25006', // read_only_sql_transaction
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

const TRANSIENT_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection ended|connect ECONNREFUSED|not currently accepting connections|the database system is (starting up|shutting down|in recovery mode)/i;

/** Whether an error says the database is unreachable or cannot take work right now. */
export function isTransientPgError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || code.startsWith('08'))) {
    return true;
  }
  if (TRANSIENT_MESSAGES.test(error.message)) return true;
  return error.cause !== undefined && isTransientPgError(error.cause);
}

/**
 * The server ended the session (`57P01`: a restart, a failover, `pg_terminate_backend`; `57P05`:
 * `idle_session_timeout`), or the socket was reset or closed under the statement.
 */
const CLOSED_CONNECTION_CODES = new Set(['57P01', '57P05', 'ECONNRESET', 'EPIPE']);
const CLOSED_CONNECTION_MESSAGES =
  /Connection terminated unexpectedly|encountered a connection error and is not queryable/i;

function isClosedConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CLOSED_CONNECTION_CODES.has(code)) return true;
  return CLOSED_CONNECTION_MESSAGES.test(error.message);
}

/**
 * Runs `work` on a pooled connection, and again on another one while the connection it ran on
 * turns out to have been closed by the server: for checks whose answer should be the database's
 * state, not that of idle connections the pool has not yet heard are gone. Each closed one is
 * dropped, and each new try waits a turn of the event loop, in which the pool hears of the others
 * whose closing has reached this host; at most one try more than the connections the pool may
 * hold. Opening a connection is not retried: a database that refuses it or does not answer fails
 * the check on its first try.
 */
export async function onLiveConnection<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  for (let tries = 1; ; tries++) {
    const client = await pool.connect();
    try {
      const result = await work(client);
      client.release();
      return result;
    } catch (error) {
      client.release(error as Error);
      if (!isClosedConnectionError(error) || tries > pool.options.max) throw error;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Runs `work` in a transaction on one pooled connection. A connection that failed is destroyed
 * instead of going back to the pool.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (isTransientPgError(error)) broken = error as Error;
    else await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release(broken);
  }
}
