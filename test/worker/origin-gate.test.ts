import { describe, expect, it } from 'vitest';
import { type BreakerChange, createOriginGate } from '../../src/worker/origin-gate.ts';

const A = 'http://a.example';
const B = 'https://b.example:8443';
const breaker = { threshold: 2, cooldownMs: 1_000, maxCooldownMs: 4_000 };

function gate(perOrigin = 2) {
  const changes: BreakerChange[] = [];
  return {
    gate: createOriginGate({ perOrigin, breaker, onChange: (c) => changes.push(c) }),
    changes,
  };
}

describe('the origin gate', () => {
  it('lets at most perOrigin attempts in flight to one origin, and blocks it while full', () => {
    const { gate: g } = gate(2);
    const first = g.enter(A, 0);
    expect(g.enter(A, 0)).toEqual({ origin: A, probe: false });
    expect(g.enter(A, 0)).toBeUndefined();
    expect(g.enter(B, 0)).toBeDefined();
    expect(g.rooms(0)).toEqual({ blocked: [A], byOrigin: { [B]: 1 }, perOrigin: 2 });
    g.leave(first as NonNullable<typeof first>, 'success', 1);
    expect(g.rooms(1)).toEqual({ blocked: [], byOrigin: { [A]: 1, [B]: 1 }, perOrigin: 2 });
    expect(g.enter(A, 1)).toBeDefined();
  });

  it('holds an origin after consecutive failures, probes it once after the cool-down, closes on success', () => {
    const { gate: g, changes } = gate(4);
    const tickets = [g.enter(A, 0), g.enter(A, 0), g.enter(A, 0)].map(
      (t) => t as NonNullable<typeof t>,
    );
    g.leave(tickets[0] as (typeof tickets)[0], 'failure', 10);
    g.leave(tickets[1] as (typeof tickets)[0], 'failure', 20);
    expect(changes).toEqual([
      { kind: 'opened', origin: A, cooldownMs: 1_000, until: 1_020, afterProbe: false },
    ]);
    expect(g.held()).toEqual([A]);
    expect(g.rooms(500).blocked).toEqual([A]);
    expect(g.enter(A, 500)).toBeUndefined();
    expect(g.nextProbeAt(500)).toBe(1_020);
    // The attempt still in flight when it opened fails too: nothing more happens.
    g.leave(tickets[2] as (typeof tickets)[0], 'failure', 600);
    expect(changes).toHaveLength(1);

    // Cool-down over: one attempt, the probe, may go.
    expect(g.rooms(1_020)).toEqual({ blocked: [], byOrigin: { [A]: 1 }, perOrigin: 4 });
    const probe = g.enter(A, 1_020);
    expect(probe).toEqual({ origin: A, probe: true });
    expect(g.enter(A, 1_020)).toBeUndefined();
    expect(g.rooms(1_020).blocked).toEqual([A]);
    g.leave(probe as NonNullable<typeof probe>, 'failure', 1_100);
    expect(changes.at(-1)).toEqual({
      kind: 'opened',
      origin: A,
      cooldownMs: 2_000,
      until: 3_100,
      afterProbe: true,
    });
    expect(g.nextProbeAt(1_100)).toBe(3_100);
    // Once the cool-down is over, nothing is left to wait for.
    expect(g.nextProbeAt(3_100)).toBeNull();

    const second = g.enter(A, 3_100);
    g.leave(second as NonNullable<typeof second>, 'success', 3_150);
    expect(changes.map((c) => c.kind)).toEqual([
      'opened',
      'probing',
      'opened',
      'probing',
      'closed',
    ]);
    expect(g.held()).toEqual([]);
    expect(g.nextProbeAt(3_150)).toBeNull();
    expect(g.enter(A, 3_200)).toEqual({ origin: A, probe: false });
  });
});
