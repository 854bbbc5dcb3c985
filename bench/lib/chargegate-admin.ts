import { sleep } from './clock.ts';

/** What the bench asks chargegate through its admin API (`Authorization: Bearer <ADMIN_TOKEN>`). */

export type Admin = {
  /** A driver that may charge everywhere, so every decision is `allowed`. */
  allowDriver(driverId: string): Promise<void>;
  /** How many requests are in a callback state, counted up to `cap` (one page). */
  countInState(
    state: 'pending' | 'failed',
    cap?: number,
  ): Promise<{ count: number; more: boolean }>;
  /** Waits until no callback is pending; answers how long that took and what is left. */
  waitForDrain(timeoutMs: number): Promise<Drain>;
  /** When chargegate took a request in and when its first callback attempt started (epoch ms). */
  timesOf(requestId: string): Promise<RequestTimes>;
};

export type RequestTimes = {
  createdAt: number;
  /** The first attempt, or null when none is recorded. */
  firstAttempt: { startedAt: number; durationMs: number } | null;
};

export type Drain = { drained: boolean; ms: number; pendingLeft: number; pendingMore: boolean };

export function chargegateAdmin(origin: string, token: string): Admin {
  const authorization = `Bearer ${token}`;

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(origin + path, {
      method,
      headers: {
        authorization,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== 200) {
      throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    }
    return JSON.parse(text);
  }

  async function countInState(state: 'pending' | 'failed', cap = 100) {
    const page = (await call(
      'GET',
      `/api/charging-session-requests?callbackState=${state}&limit=${cap}`,
    )) as { data: unknown[]; nextCursor: string | null };
    return { count: page.data.length, more: page.nextCursor !== null };
  }

  return {
    async allowDriver(driverId) {
      const driver = (await call('PUT', `/api/drivers/${encodeURIComponent(driverId)}`, {
        status: 'active',
        allStations: true,
        expiresAt: null,
      })) as { allStations?: unknown };
      if (driver.allStations !== true) {
        throw new Error(`PUT /api/drivers answered ${JSON.stringify(driver)}`);
      }
    },
    countInState,
    async waitForDrain(timeoutMs) {
      const started = performance.now();
      // A page of one is enough to see emptiness and adds little work while the worker drains.
      for (;;) {
        const pending = await countInState('pending', 1);
        const ms = performance.now() - started;
        if (pending.count === 0) return { drained: true, ms, pendingLeft: 0, pendingMore: false };
        if (ms > timeoutMs) {
          const left = await countInState('pending');
          return { drained: false, ms, pendingLeft: left.count, pendingMore: left.more };
        }
        await sleep(200);
      }
    },
    async timesOf(requestId) {
      const path = `/api/charging-session-requests/${encodeURIComponent(requestId)}`;
      const request = (await call('GET', path)) as { createdAt: string };
      const attempts = (await call('GET', `${path}/attempts`)) as {
        data: { attempt: number; startedAt: string; durationMs: number }[];
      };
      const first = attempts.data.find((attempt) => attempt.attempt === 1);
      return {
        createdAt: Date.parse(request.createdAt),
        firstAttempt: first
          ? { startedAt: Date.parse(first.startedAt), durationMs: first.durationMs }
          : null,
      };
    },
  };
}
