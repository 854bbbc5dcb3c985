import { Pool } from 'undici';
import { monotonicMs } from './clock.ts';
import { acknowledgedId } from './payload.ts';

/**
 * Open-loop load: request i is due at start + i / rate, whether or not earlier ones have been
 * answered, so a slow server meets the same arrival rate instead of being given a breather.
 */

export type SentRequest = {
  /** When it was due and when it was handed to the socket (monotonic ms, see clock.ts). */
  dueMs: number;
  sentMs: number;
  /** When the answer's body had arrived (monotonic ms), null on error. */
  answeredMs: number | null;
  status: number | null;
  requestId: string | null;
  error: string | null;
};

export type SteadyLoadOptions = {
  origin: string;
  path: string;
  rate: number;
  durationS: number;
  bodies: string[];
};

export async function steadyLoad({
  origin,
  path,
  rate,
  durationS,
  bodies,
}: SteadyLoadOptions): Promise<SentRequest[]> {
  // Far more connections than the rate needs, so a request never queues behind another in undici
  // and its send time is the time it is written.
  const pool = new Pool(origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
  const total = Math.round(rate * durationS);
  const intervalMs = 1000 / rate;
  const sent: SentRequest[] = [];
  const answers: Promise<void>[] = [];

  const send = (index: number, dueMs: number) => {
    const entry: SentRequest = {
      dueMs,
      sentMs: 0,
      answeredMs: null,
      status: null,
      requestId: null,
      error: null,
    };
    sent.push(entry);
    entry.sentMs = monotonicMs();
    answers.push(
      pool
        .request({
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json' },
          body: bodies[index % bodies.length] as string,
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        })
        .then(async (response) => {
          const text = await response.body.text();
          entry.answeredMs = monotonicMs();
          entry.status = response.statusCode;
          if (response.statusCode >= 200 && response.statusCode < 300) {
            entry.requestId = acknowledgedId(text) ?? null;
          }
        })
        .catch((error: unknown) => {
          entry.error = error instanceof Error ? error.message : String(error);
        }),
    );
  };

  const startMs = monotonicMs();
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = monotonicMs();
      while (next < total && startMs + next * intervalMs <= now) {
        send(next, startMs + next * intervalMs);
        next++;
      }
      if (next >= total) {
        resolve();
        return;
      }
      setTimeout(tick, Math.max(0, startMs + next * intervalMs - monotonicMs()));
    };
    tick();
  });
  await Promise.all(answers);
  await pool.close();
  return sent;
}
