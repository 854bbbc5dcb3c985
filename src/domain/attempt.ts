import { formatDuration, scheduledDelay } from './retry-schedule.ts';

/**
 * What one delivery attempt came to, and what follows it. Pure: the retry policy of the contract
 * (2xx delivered; 410 and refused destinations final at once; everything else retried on the
 * schedule with jitter, `Retry-After` on 429/503 honoured; failed when the schedule runs out).
 */

/** How an attempt ended, as recorded and shown in the delivery log. */
export const ATTEMPT_OUTCOMES = [
  'delivered',
  'http_error',
  'timeout',
  'network',
  'refused',
  'error',
] as const;

export type AttemptOutcome =
  | { kind: 'delivered'; status: number; responseBody: string }
  | { kind: 'http_error'; status: number; responseBody: string; retryAfterMs: number | undefined }
  | { kind: 'timeout' | 'network' | 'refused' | 'error'; error: string };

export type NextStep =
  | { state: 'delivered'; completedAt: number; error: null }
  | { state: 'failed'; completedAt: number; error: string }
  | { state: 'pending'; nextAttemptAt: number; error: string };

/** A receiver's `Retry-After` is honoured up to this long. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

export function describeOutcome(outcome: AttemptOutcome): string | null {
  switch (outcome.kind) {
    case 'delivered':
      return null;
    case 'http_error':
      if (outcome.status >= 300 && outcome.status < 400) {
        return `receiver answered ${outcome.status}; redirects are not followed`;
      }
      return `receiver answered ${outcome.status}`;
    default:
      return outcome.error;
  }
}

/**
 * @param cycleAttempts attempts made in this delivery cycle, this one included
 * @param schedule delays before each retry, in milliseconds
 */
export function nextStep(
  outcome: AttemptOutcome,
  cycleAttempts: number,
  schedule: readonly number[],
  random: () => number,
  now: number,
): NextStep {
  const error = describeOutcome(outcome);
  if (outcome.kind === 'delivered' || error === null) {
    return { state: 'delivered', completedAt: now, error: null };
  }
  if (outcome.kind === 'refused') return { state: 'failed', completedAt: now, error };
  if (outcome.kind === 'http_error' && outcome.status === 410) {
    return { state: 'failed', completedAt: now, error: `${error} (Gone): retries stopped` };
  }
  const delay = scheduledDelay(schedule, cycleAttempts - 1, random);
  if (delay === undefined) {
    return {
      state: 'failed',
      completedAt: now,
      error: `${error}; no retries left after ${cycleAttempts} attempt${cycleAttempts === 1 ? '' : 's'}`,
    };
  }
  const retryAfter =
    outcome.kind === 'http_error' && outcome.retryAfterMs !== undefined
      ? Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS)
      : 0;
  const wait = Math.max(delay, retryAfter);
  return {
    state: 'pending',
    nextAttemptAt: now + wait,
    error: `${error}; next attempt in ${formatDuration(wait)}`,
  };
}
