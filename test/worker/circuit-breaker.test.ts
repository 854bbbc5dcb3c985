import { describe, expect, it } from 'vitest';
import type { AttemptOutcome } from '../../src/domain/attempt.ts';
import {
  type Breaker,
  type BreakerOptions,
  CLOSED,
  current,
  finished,
  mayStart,
  started,
  verdictOf,
} from '../../src/worker/circuit-breaker.ts';

const options: BreakerOptions = { threshold: 3, cooldownMs: 1_000, maxCooldownMs: 3_000 };
const T = 1_000_000;

describe('verdictOf', () => {
  it.each<[AttemptOutcome | undefined, string]>([
    [{ kind: 'delivered', status: 204, responseBody: '' }, 'success'],
    [{ kind: 'http_error', status: 404, responseBody: '', retryAfterMs: undefined }, 'success'],
    [{ kind: 'http_error', status: 429, responseBody: '', retryAfterMs: 5 }, 'success'],
    [{ kind: 'http_error', status: 500, responseBody: '', retryAfterMs: undefined }, 'failure'],
    [{ kind: 'http_error', status: 503, responseBody: '', retryAfterMs: 5 }, 'failure'],
    [{ kind: 'timeout', error: 'no answer' }, 'failure'],
    [{ kind: 'network', error: 'ECONNREFUSED' }, 'failure'],
    [{ kind: 'refused', error: 'private address' }, 'neutral'],
    [{ kind: 'error', error: 'bug' }, 'neutral'],
    [undefined, 'neutral'],
  ])('%j → %s', (outcome, verdict) => {
    expect(verdictOf(outcome)).toBe(verdict);
  });
});

describe('the circuit breaker', () => {
  it.each<[string, Breaker, Parameters<typeof finished>[1], boolean, Breaker]>([
    [
      'a failure below the threshold counts',
      CLOSED,
      'failure',
      false,
      { phase: 'closed', failures: 1 },
    ],
    [
      'the threshold-th consecutive failure opens it',
      { phase: 'closed', failures: 2 },
      'failure',
      false,
      { phase: 'open', until: T + 1_000, cooldownMs: 1_000 },
    ],
    ['a success resets the count', { phase: 'closed', failures: 2 }, 'success', false, CLOSED],
    [
      'a neutral end changes nothing',
      { phase: 'closed', failures: 2 },
      'neutral',
      false,
      { phase: 'closed', failures: 2 },
    ],
    [
      'a failure of an attempt started before it opened changes nothing',
      { phase: 'open', until: T + 500, cooldownMs: 1_000 },
      'failure',
      false,
      { phase: 'open', until: T + 500, cooldownMs: 1_000 },
    ],
    [
      'a success while open closes it',
      { phase: 'open', until: T + 500, cooldownMs: 1_000 },
      'success',
      false,
      CLOSED,
    ],
    [
      'a successful probe closes it',
      { phase: 'half_open', probing: true, cooldownMs: 1_000 },
      'success',
      true,
      CLOSED,
    ],
    [
      'a failed probe opens it for twice the cool-down',
      { phase: 'half_open', probing: true, cooldownMs: 1_000 },
      'failure',
      true,
      { phase: 'open', until: T + 2_000, cooldownMs: 2_000 },
    ],
    [
      'the cool-down grows up to its maximum',
      { phase: 'half_open', probing: true, cooldownMs: 2_000 },
      'failure',
      true,
      { phase: 'open', until: T + 3_000, cooldownMs: 3_000 },
    ],
    [
      'a probe that came to nothing lets another go',
      { phase: 'half_open', probing: true, cooldownMs: 1_000 },
      'neutral',
      true,
      { phase: 'half_open', probing: false, cooldownMs: 1_000 },
    ],
    [
      'only the probe decides a half-open breaker',
      { phase: 'half_open', probing: true, cooldownMs: 1_000 },
      'failure',
      false,
      { phase: 'half_open', probing: true, cooldownMs: 1_000 },
    ],
  ])('%s', (_name, before, verdict, probe, after) => {
    expect(finished(before, verdict, probe, T, options)).toEqual(after);
  });

  it('holds attempts for the cool-down, then lets exactly one probe through', () => {
    const open: Breaker = { phase: 'open', until: T + 1_000, cooldownMs: 1_000 };
    expect(mayStart(open, T)).toBe(false);
    expect(mayStart(open, T + 999)).toBe(false);
    expect(current(open, T + 1_000)).toEqual({
      phase: 'half_open',
      probing: false,
      cooldownMs: 1_000,
    });
    expect(mayStart(open, T + 1_000)).toBe(true);
    const probing = started(open, T + 1_000);
    expect(probing.probe).toBe(true);
    expect(mayStart(probing.breaker, T + 1_001)).toBe(false);
  });

  it('lets every attempt through while closed, none of them a probe', () => {
    const { breaker, probe } = started({ phase: 'closed', failures: 2 }, T);
    expect(probe).toBe(false);
    expect(mayStart(breaker, T)).toBe(true);
  });
});
