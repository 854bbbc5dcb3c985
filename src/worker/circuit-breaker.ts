import type { AttemptOutcome } from '../domain/attempt.ts';

/**
 * The circuit breaker of one callback origin, as pure transitions. Closed, it counts consecutive
 * failures (timeouts, connection failures, 5xx); at `threshold` it opens and holds the origin for
 * a cool-down; after it one probe attempt goes through (half open): its success closes the
 * breaker, its failure opens it again for twice the cool-down, up to `maxCooldownMs`. While a
 * breaker holds an origin, none of its callbacks is attempted, so none loses a retry.
 */

export type BreakerOptions = {
  /** Consecutive failures that open the breaker. */
  threshold: number;
  /** The first cool-down. */
  cooldownMs: number;
  /** The longest cool-down, reached by doubling after failed probes. */
  maxCooldownMs: number;
};

/**
 * A short first cool-down gets an origin back soon after a blip (a restart, a deploy); doubling
 * after each failed probe makes one that stays down cost one attempt per 5 min at most.
 */
export const DEFAULT_BREAKER: BreakerOptions = Object.freeze({
  threshold: 5,
  cooldownMs: 5_000,
  maxCooldownMs: 300_000,
});

export type Breaker =
  | { phase: 'closed'; failures: number }
  | { phase: 'open'; until: number; cooldownMs: number }
  | { phase: 'half_open'; probing: boolean; cooldownMs: number };

export const CLOSED: Breaker = Object.freeze({ phase: 'closed', failures: 0 });

/** What an attempt says about its receiver: only `failure` counts towards opening. */
export type Verdict = 'success' | 'failure' | 'neutral';

/**
 * An answer below 500 is a receiver at work (a 4xx is the request's problem, not the origin's);
 * a refused destination never reached it.
 */
export function verdictOf(outcome: AttemptOutcome | undefined): Verdict {
  if (!outcome) return 'neutral';
  switch (outcome.kind) {
    case 'delivered':
      return 'success';
    case 'http_error':
      return outcome.status >= 500 ? 'failure' : 'success';
    case 'timeout':
    case 'network':
      return 'failure';
    default:
      return 'neutral';
  }
}

/** The breaker at `now`: an open one whose cool-down has passed is half open. */
export function current(breaker: Breaker, now: number): Breaker {
  if (breaker.phase === 'open' && now >= breaker.until) {
    return { phase: 'half_open', probing: false, cooldownMs: breaker.cooldownMs };
  }
  return breaker;
}

/** Whether an attempt may start now: always when closed, once (the probe) when half open. */
export function mayStart(breaker: Breaker, now: number): boolean {
  const state = current(breaker, now);
  return state.phase === 'closed' || (state.phase === 'half_open' && !state.probing);
}

/**
 * The breaker once an attempt has started, and whether that attempt is the probe of a half-open
 * breaker. Call it only when `mayStart` allows.
 */
export function started(breaker: Breaker, now: number): { breaker: Breaker; probe: boolean } {
  const state = current(breaker, now);
  return state.phase === 'half_open'
    ? { breaker: { ...state, probing: true }, probe: true }
    : { breaker: state, probe: false };
}

/**
 * The breaker once an attempt has ended with `verdict`; `probe` says it was the one a half-open
 * breaker let through (see `started`).
 */
export function finished(
  breaker: Breaker,
  verdict: Verdict,
  probe: boolean,
  now: number,
  options: BreakerOptions,
): Breaker {
  const state = current(breaker, now);
  if (verdict === 'success') return CLOSED;
  switch (state.phase) {
    case 'closed': {
      if (verdict === 'neutral') return state;
      const failures = state.failures + 1;
      return failures >= options.threshold
        ? { phase: 'open', until: now + options.cooldownMs, cooldownMs: options.cooldownMs }
        : { phase: 'closed', failures };
    }
    case 'half_open': {
      // Only the probe decides; an attempt started before the breaker opened does not.
      if (!probe) return state;
      // A neutral end (no answer either way) lets another probe go.
      if (verdict === 'neutral') return { ...state, probing: false };
      const cooldownMs = Math.min(state.cooldownMs * 2, options.maxCooldownMs);
      return { phase: 'open', until: now + cooldownMs, cooldownMs };
    }
    default:
      // Attempts that started before it opened and fail now change nothing.
      return state;
  }
}
