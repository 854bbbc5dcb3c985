import { describe, expect, it } from 'vitest';
import { slowestIndexes, splitSlowRequest } from '../../bench/lib/e2e.ts';

describe('the e2e phase’s slowest requests', () => {
  it('picks the largest latencies, largest first, the earlier of equals first, none not measured', () => {
    expect(slowestIndexes([3, 9, Number.NaN, 9, 1, 12, 4], 3)).toEqual([5, 1, 3]);
    expect(slowestIndexes([2, 1], 5)).toEqual([0, 1]);
    expect(slowestIndexes([], 5)).toEqual([]);
  });

  it('splits a request’s time at what chargegate recorded, on chargegate’s clock', () => {
    // Sent at monotonic 5,250 ms, 250 ms into the phase; the monotonic clock reads 1,000,000 ms
    // behind the wall clock.
    const split = splitSlowRequest(
      { requestId: 'r1', sentMs: 5_250, answeredMs: 5_287 },
      40,
      { createdAt: 1_005_251, firstAttempt: { startedAt: 1_005_289, durationMs: 1 } },
      { firstSentMs: 5_000, wallOffsetMs: 1_000_000 },
    );
    expect(split).toEqual({
      requestId: 'r1',
      atS: 0.25,
      endToEndMs: 40,
      ackMs: 37,
      intakeMs: 1,
      toAttemptMs: 38,
      attemptMs: 1,
    });
  });

  it('leaves out what was not recorded: no answer read, no attempt yet', () => {
    const split = splitSlowRequest(
      { requestId: 'r2', sentMs: 100, answeredMs: null },
      30,
      { createdAt: 2_102, firstAttempt: null },
      { firstSentMs: 100, wallOffsetMs: 2_000 },
    );
    expect(split).toMatchObject({
      atS: 0,
      ackMs: null,
      intakeMs: 2,
      toAttemptMs: null,
      attemptMs: null,
    });
  });
});
