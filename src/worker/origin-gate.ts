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
  | { kind: 'opened'; origin: string; cooldownMs: number; until: number; afterProbe: boolean }
  | { kind: 'probing'; origin: string }
  | { kind: 'closed'; origin: string };

/** A slot taken for one attempt; give it back with `leave`. */
export type Ticket = { origin: string; probe: boolean };

export type OriginGate = {
  /**
   * What a claim may take now: no callback of the `blocked` origins (at their cap, held by their
   * breaker, or probing), at most `byOrigin[origin]` of the origins named there (some attempts
   * in flight or `waiting`, or one probe), and up to `perOrigin` (plus the gate's lookahead) of
   * any other. `waiting` counts, per origin, callbacks already claimed and not yet started.
   */
  rooms(
    now: number,
    waiting?: ReadonlyMap<string, number>,
  ): { blocked: string[]; byOrigin: Record<string, number>; perOrigin: number };
  /** How many more callbacks of `origin` a claim may take, `waiting` of them claimed already. */
  room(origin: string, now: number, waiting: number): number;
  /** Takes a slot for an attempt to `origin`, or answers undefined when it has to wait. */
  enter(origin: string, now: number): Ticket | undefined;
  /** Whether the origin's breaker holds its callbacks now (open, or probing with one attempt). */
  holds(origin: string, now: number): boolean;
  /** Gives the slot back, telling the breaker how the attempt went. */
  leave(ticket: Ticket, verdict: Verdict, now: number): void;
  /** When the earliest held origin may next be probed after `now`, or null when none waits. */
  nextProbeAt(now: number): number | null;
  /** Origins whose breaker is not closed. */
  held(): string[];
};

type Entry = { inFlight: number; breaker: Breaker };

export function createOriginGate({
  perOrigin,
  lookahead = () => 0,
  breaker: options,
  onChange,
}: {
  perOrigin: number;
  /**
   * How many more than its free slots a claim may take of an origin now, to start as slots free
   * (asked at every claim: the worker takes fewer ahead under pressure).
   */
  lookahead?: () => number;
  breaker: BreakerOptions;
  onChange?: (change: BreakerChange) => void;
}): OriginGate {
  const entries = new Map<string, Entry>();
  const idle: Entry = { inFlight: 0, breaker: CLOSED };

  const isHeld = (entry: Entry) => entry.breaker.phase !== 'closed';
  /** Slots free now; a probing origin has one attempt at most, and no lookahead. */
  const roomOf = (entry: Entry, now: number, ahead = 0) => {
    if (!mayStart(entry.breaker, now)) return 0;
    const room = perOrigin - entry.inFlight;
    return current(entry.breaker, now).phase === 'half_open' ? Math.min(1, room) : room + ahead;
  };

  return {
    rooms(now, waiting = new Map()) {
      const blocked: string[] = [];
      const byOrigin: Record<string, number> = {};
      const ahead = lookahead();
      const full = perOrigin + ahead;
      for (const origin of new Set([...entries.keys(), ...waiting.keys()])) {
        const entry = entries.get(origin) ?? idle;
        const room = roomOf(entry, now, ahead) - (waiting.get(origin) ?? 0);
        if (room <= 0) blocked.push(origin);
        else if (room < full) byOrigin[origin] = room;
      }
      return { blocked, byOrigin, perOrigin: full };
    },

    room(origin, now, waitingHere) {
      return roomOf(entries.get(origin) ?? idle, now, lookahead()) - waitingHere;
    },

    holds(origin, now) {
      const entry = entries.get(origin);
      return entry !== undefined && !mayStart(entry.breaker, now);
    },

    enter(origin, now) {
      const entry = entries.get(origin) ?? { ...idle };
      if (roomOf(entry, now) <= 0) return undefined;
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
          until: after.until,
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

    nextProbeAt(now) {
      let next: number | null = null;
      for (const { breaker } of entries.values()) {
        // A cool-down already over waits only for a due callback to probe with: no timer.
        if (breaker.phase !== 'open' || breaker.until <= now) continue;
        if (next === null || breaker.until < next) {
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
