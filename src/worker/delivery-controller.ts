/**
 * How many callback attempts the worker may have in flight, adjusted every `intervalMs`: additive
 * increase while the event loop has room, multiplicative decrease while HTTP traffic saturates it
 * (so acknowledgements, which callers wait for, keep their latency), and a floor that rises with
 * how late the due callbacks are (so a long burst cannot grow the backlog without bound: once
 * callbacks run `fullLagMs` late the worker takes its whole concurrency whatever the load).
 */

export type ControllerBounds = {
  /** WORKER_CONCURRENCY. */
  max: number;
  /** The least share under pressure. */
  min: number;
  /** Added per interval while not under pressure. */
  step: number;
  /** Lateness of due callbacks at which the floor reaches `max`. */
  fullLagMs: number;
};

export type ControllerSample = {
  /** The event loop was saturated by HTTP traffic over the last interval. */
  pressed: boolean;
  /** How late the oldest callback claimed lately was (now − its due time). */
  lagMs: number;
};

export const DEFAULT_FULL_LAG_MS = 3_000;
export const CONTROL_INTERVAL_MS = 100;

export function controllerBounds(max: number, fullLagMs = DEFAULT_FULL_LAG_MS): ControllerBounds {
  return {
    max,
    min: Math.max(1, Math.floor(max / 8)),
    step: Math.max(1, Math.ceil(max / 8)),
    fullLagMs,
  };
}

/** The next in-flight limit. Pure. */
export function nextLimit(
  limit: number,
  { pressed, lagMs }: ControllerSample,
  { max, min, step, fullLagMs }: ControllerBounds,
): number {
  const lateness = Math.min(1, Math.max(0, lagMs) / fullLagMs);
  const floor = Math.max(min, Math.ceil(max * lateness));
  const next = pressed ? Math.floor(limit / 2) : limit + step;
  return Math.min(max, Math.max(floor, next));
}

export type DeliveryController = {
  /** The current limit; re-evaluated at most once per interval. */
  limit(): number;
  /** Whether the last evaluation found the event loop saturated. */
  readonly pressed: boolean;
  /** Reports how late the oldest callback of a claim was. */
  observeLag(lagMs: number): void;
};

export function createDeliveryController({
  bounds,
  underPressure,
  now,
  intervalMs = CONTROL_INTERVAL_MS,
}: {
  bounds: ControllerBounds;
  underPressure: () => boolean;
  now: () => number;
  intervalMs?: number;
}): DeliveryController {
  let current = bounds.max;
  let pressed = false;
  let lagMs = 0;
  let evaluatedAt = Number.NEGATIVE_INFINITY;
  return {
    limit() {
      const at = now();
      if (at - evaluatedAt >= intervalMs) {
        evaluatedAt = at;
        pressed = underPressure();
        current = nextLimit(current, { pressed, lagMs }, bounds);
      }
      return current;
    },
    get pressed() {
      return pressed;
    },
    observeLag(ms) {
      lagMs = ms;
    },
  };
}
