import type { Server } from 'node:http';
import type { FastifyBaseLogger, FastifyHttpOptions } from 'fastify';

/**
 * What one client may hold of the HTTP server: how long a request may take to arrive, how long an
 * idle keep-alive connection stays open, and how many connections are open at once. Without them
 * a client that stops mid-body holds its connection (and its memory and descriptor) forever.
 */

export type HttpLimits = {
  /** Headers and body must have arrived within this, else 408 and the connection is closed. */
  requestTimeoutMs: number;
  /** Open client connections at most; past it new connections are closed at once. */
  maxConnections: number;
};

/** An idle keep-alive connection is closed after this long, or REQUEST_TIMEOUT_MS if shorter. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** Refused connections are logged at most once per this long, with how many there were. */
const DROP_LOG_INTERVAL_MS = 10_000;

/**
 * Node checks request deadlines on a timer (every 30 s by default), so a deadline could be
 * overrun by that much. Checking ten times per timeout, at most once a second, keeps the
 * overrun under a second for a cost of one pass over the connections still arriving.
 */
const checkIntervalMs = (requestTimeoutMs: number) =>
  Math.min(1_000, Math.max(10, Math.floor(requestTimeoutMs / 10)));

/** The Fastify options that apply these limits to the server it creates. */
export function serverOptions({ requestTimeoutMs }: HttpLimits) {
  return {
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: Math.min(KEEP_ALIVE_TIMEOUT_MS, requestTimeoutMs),
    // Given at creation too: Node derives the headers deadline and the check timer from these.
    http: {
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs,
      connectionsCheckingInterval: checkIntervalMs(requestTimeoutMs),
    },
  } satisfies FastifyHttpOptions<Server>;
}

/** Bounds the server's open connections; connections past the bound are closed and logged. */
export function limitConnections(
  server: Server,
  { maxConnections }: HttpLimits,
  log: FastifyBaseLogger,
): void {
  server.maxConnections = maxConnections;
  let dropped = 0;
  let lastLogged = 0;
  server.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now - lastLogged < DROP_LOG_INTERVAL_MS) return;
    log.warn(
      { refused: dropped, maxConnections },
      'connections refused: MAX_CONNECTIONS connections are open',
    );
    lastLogged = now;
    dropped = 0;
  });
}
