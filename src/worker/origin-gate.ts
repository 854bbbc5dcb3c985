import {
  type Breaker,
  type BreakerOptions,
  CLOSED,
  current,
  finished,
  mayStart,
  started,
  type Verdict,
} from './circuit-breaker.ts';

/**
 * Fair delivery, per callback origin, in this process's memory: at most `perOrigin` attempts in
 * flight to one origin, and its circuit breaker. The worker asks which origins are blocked before
 * it claims, so that the claim passes over them, and enters the gate before each attempt. Each
 * instance keeps its own counts and breakers: N instances send at most N × `perOrigin` attempts
 * to an origin at once, and each finds out by itself that an origin fails.
 */

export type BreakerChange =
  | { kind: 'opened'; origin: string; cooldownMs: number; afterProbe: boolean }
  | { kind: 'probing'; origin: string }
  | { kind: 'closed'; origin: string };

/** A slot taken for one attempt; give it back with `leave`. */
export type Ticket = { origin: string; probe: boolean };

export type OriginGate = {
  /** Origins no attempt may start to now: at their cap, held by their breaker, or probing. */
  blocked(now: number): string[];
  /** Takes a slot for an attempt to `origin`, or answers undefined when it has to wait. */
  enter(origin: string, now: number): Ticket | undefined;
  /** Gives the slot back, telling the breaker how the attempt went. */
  leave(ticket: Ticket, verdict: Verdict, now: number): void;
  /** When the earliest held origin may be probed, or null when none is held. */
  nextProbeAt(): number | null;
  /** Origins whose breaker is not closed. */
  held(): string[];
};

type Entry = { inFlight: number; breaker: Breaker };

export function createOriginGate({
  perOrigin,
  breaker: options,
  onChange,
}: {
  perOrigin: number;
  breaker: BreakerOptions;
  onChange?: (change: BreakerChange) => void;
}): OriginGate {
  const entries = new Map<string, Entry>();

  const isHeld = (entry: Entry) => entry.breaker.phase !== 'closed';

  return {
    blocked(now) {
      const blocked: string[] = [];
      for (const [origin, entry] of entries) {
        if (entry.inFlight >= perOrigin || !mayStart(entry.breaker, now)) blocked.push(origin);
      }
      return blocked;
    },

    enter(origin, now) {
      const entry = entries.get(origin) ?? { inFlight: 0, breaker: CLOSED };
      if (entry.inFlight >= perOrigin || !mayStart(entry.breaker, now)) return undefined;
      const next = started(entry.breaker, now);
      entry.breaker = next.breaker;
      entry.inFlight++;
      entries.set(origin, entry);
      if (next.probe) onChange?.({ kind: 'probing', origin });
      return { origin, probe: next.probe };
    },

    leave({ origin, probe }, verdict, now) {
      const entry = entries.get(origin);
      if (!entry) return;
      entry.inFlight--;
      const before = current(entry.breaker, now);
      entry.breaker = finished(entry.breaker, verdict, probe, now, options);
      const after = entry.breaker;
      if (after.phase === 'open' && before.phase !== 'open') {
        onChange?.({
          kind: 'opened',
          origin,
          cooldownMs: after.cooldownMs,
          afterProbe: before.phase === 'half_open',
        });
      } else if (after.phase === 'closed' && before.phase !== 'closed') {
        onChange?.({ kind: 'closed', origin });
      }
      // Forget origins with nothing to remember, so the map holds only busy or failing ones.
      if (entry.inFlight === 0 && after.phase === 'closed' && after.failures === 0) {
        entries.delete(origin);
      }
    },

    nextProbeAt() {
      let next: number | null = null;
      for (const { breaker } of entries.values()) {
        if (breaker.phase === 'open' && (next === null || breaker.until < next)) {
          next = breaker.until;
        }
      }
      return next;
    },

    held() {
      return [...entries].filter(([, entry]) => isHeld(entry)).map(([origin]) => origin);
    },
  };
}
