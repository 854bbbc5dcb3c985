import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createClient } from './pool.ts';

/**
 * Wake-ups across instances: after a commit that stored requests, an instance sends NOTIFY (at
 * most one per THROTTLE_MS, the last one never dropped); every instance LISTENs on a connection of
 * its own and wakes its worker for the notifications of the others (the payload names the sender:
 * its own commits have woken its worker already). Polling stays the backstop: a notification lost
 * while a listener reconnects costs at most a poll interval, and every (re)connect wakes the
 * worker once so that it re-polls at once.
 *
 * LISTEN needs a session that stays on one server connection: behind PgBouncer in transaction
 * mode it does not work, and DATABASE_LISTEN=off turns it off (poll-only).
 */

export const CHANNEL = 'chargegate_work';
export const THROTTLE_MS = 50;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

export type Notifier = {
  /** Tells other instances (throttled) that new requests were committed. */
  committed(): void;
  /** Starts listening; `onWake` runs for every notification and after every (re)connect. */
  listen(onWake: () => void): void;
  close(): Promise<void>;
};

export function createNotifier({
  url,
  pool,
  onError,
}: {
  url: string;
  pool: pg.Pool;
  onError: (error: Error) => void;
}): Notifier {
  let lastSent = 0;
  let trailing: NodeJS.Timeout | undefined;
  let listener: pg.Client | undefined;
  let reconnect: NodeJS.Timeout | undefined;
  let closed = false;
  const self = randomUUID();

  function send(): void {
    lastSent = Date.now();
    pool.query('SELECT pg_notify($1, $2)', [CHANNEL, self]).catch(() => {
      // Polling finds the work anyway.
    });
  }

  function connect(onWake: () => void, delay: number): void {
    if (closed) return;
    const client = createClient(url);
    listener = client;
    const retry = (error: Error) => {
      onError(error);
      client.removeAllListeners();
      client.on('error', () => {});
      void client.end().catch(() => undefined);
      if (closed || listener !== client) return;
      listener = undefined;
      reconnect = setTimeout(() => {
        reconnect = undefined;
        connect(onWake, Math.min(delay * 2, RECONNECT_MAX_MS));
      }, delay);
      reconnect.unref();
    };
    client.on('error', retry);
    client.on('notification', ({ payload }) => {
      if (payload !== self) onWake();
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${CHANNEL}`))
      .then(() => {
        if (closed) return client.end();
        onWake();
      })
      .catch(retry);
    client.on('end', () => {
      if (!closed && listener === client) retry(new Error('LISTEN connection ended'));
    });
  }

  return {
    committed() {
      if (closed) return;
      const wait = lastSent + THROTTLE_MS - Date.now();
      if (wait <= 0) return send();
      trailing ??= setTimeout(() => {
        trailing = undefined;
        if (!closed) send();
      }, wait);
    },
    listen(onWake) {
      if (!listener && !reconnect) connect(onWake, RECONNECT_MIN_MS);
    },
    async close() {
      closed = true;
      if (trailing) clearTimeout(trailing);
      if (reconnect) clearTimeout(reconnect);
      const client = listener;
      listener = undefined;
      await client?.end().catch(() => undefined);
    },
  };
}
