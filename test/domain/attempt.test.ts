import { describe, expect, it } from 'vitest';
import { type AttemptOutcome, MAX_RETRY_AFTER_MS, nextStep } from '../../src/domain/attempt.ts';

const now = 1_000_000;
const schedule = [5_000, 300_000];
const middle = () => 0.5; // no jitter
const step = (outcome: AttemptOutcome, cycleAttempts = 1) =>
  nextStep(outcome, cycleAttempts, schedule, middle, now);
const http = (status: number, retryAfterMs?: number): AttemptOutcome => ({
  kind: 'http_error',
  status,
  responseBody: '',
  retryAfterMs,
});

describe('nextStep', () => {
  it('ends delivered on a 2xx', () => {
    expect(step({ kind: 'delivered', status: 204, responseBody: '' })).toEqual({
      state: 'delivered',
      completedAt: now,
      error: null,
    });
  });

  it.each([
    [http(500), 'receiver answered 500'],
    [http(404), 'receiver answered 404'],
    [http(302), 'receiver answered 302; redirects are not followed'],
    [{ kind: 'timeout', error: 'no answer in time' } as AttemptOutcome, 'no answer in time'],
    [{ kind: 'network', error: 'ECONNREFUSED' } as AttemptOutcome, 'ECONNREFUSED'],
  ])('retries %j on the schedule', (outcome, error) => {
    expect(step(outcome, 1)).toEqual({
      state: 'pending',
      nextAttemptAt: now + 5_000,
      error: `${error}; next attempt in 5s`,
    });
    expect(step(outcome, 2)).toEqual({
      state: 'pending',
      nextAttemptAt: now + 300_000,
      error: `${error}; next attempt in 5m`,
    });
  });

  it('fails after the last retry, saying so', () => {
    expect(step(http(500), 3)).toEqual({
      state: 'failed',
      completedAt: now,
      error: 'receiver answered 500; no retries left after 3 attempts',
    });
  });

  it('fails at once on 410 Gone and on a refused destination', () => {
    expect(step(http(410))).toMatchObject({
      state: 'failed',
      error: 'receiver answered 410 (Gone): retries stopped',
    });
    expect(step({ kind: 'refused', error: 'callback destination 10.0.0.1 is private' })).toEqual({
      state: 'failed',
      completedAt: now,
      error: 'callback destination 10.0.0.1 is private',
    });
  });

  it('honours a longer Retry-After and keeps the schedule when it is shorter', () => {
    expect(step(http(429, 60_000))).toMatchObject({
      state: 'pending',
      nextAttemptAt: now + 60_000,
    });
    expect(step(http(503, 1_000))).toMatchObject({ state: 'pending', nextAttemptAt: now + 5_000 });
    expect(step(http(503, 10 * MAX_RETRY_AFTER_MS))).toMatchObject({
      nextAttemptAt: now + MAX_RETRY_AFTER_MS,
    });
  });

  it('applies jitter to the scheduled delay', () => {
    expect(nextStep(http(500), 1, schedule, () => 0, now)).toMatchObject({
      nextAttemptAt: now + 4_000,
    });
    expect(nextStep(http(500), 1, schedule, () => 0.999_999, now)).toMatchObject({
      nextAttemptAt: now + 6_000,
    });
  });

  it('fails after the first attempt when the schedule is empty', () => {
    expect(nextStep(http(500), 1, [], middle, now)).toMatchObject({ state: 'failed' });
  });
});
