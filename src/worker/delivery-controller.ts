/**
 * How many callback attempts the worker may have in flight, adjusted every `intervalMs`.
 *
 * - Without pressure (HTTP traffic leaves the process room) the limit grows by a step per
 *   interval up to WORKER_CONCURRENCY.
 * - Under pressure, acknowledgements (which callers wait for) come first. Where the worker runs
 *   in a thread of its own, it keeps that thread within a busy budget: over it the limit halves,
 *   within it the limit may grow. So delivery goes on under a burst, at the pace the budget
 *   allows, whatever the receivers' speed. Where the worker shares the event loop with HTTP, its
 *   own busyness cannot be told apart and the limit simply halves, down to `min`.
 * - Whatever the load, the limit never falls below a floor that grows with how late due callbacks
 *   run, reaching the whole concurrency at `fullLagMs`: a long burst cannot grow the backlog
 *   without bound.
 */

export type ControllerBounds = {
  /** WORKER_CONCURRENCY. */
  max: number;
  /** The least limit under pressure. */
  min: number;
  /** Added per interval while there is room. */
  step: number;
  /** Lateness of due callbacks at which the floor reaches `max`. */
  fullLagMs: number;
  /** Under pressure, the share of its thread's time the worker may keep busy. */
  busyBudget: number;
};

export type ControllerSample = {
  /** HTTP traffic saturates the process: the load monitor's reading (`load-monitor.ts`) now. */
  pressed: boolean;
  /** How late the oldest callback claimed lately was (now − its due time). */
  lagMs: number;
  /** How busy the worker's own thread was over the last interval (0–1), where it has one. */
  busy?: number;
};

export const DEFAULT_FULL_LAG_MS = 30_000;
export const CONTROL_INTERVAL_MS = 100;
export const DEFAULT_BUSY_BUDGET = 0.3;

export function controllerBounds(
  max: number,
  fullLagMs = DEFAULT_FULL_LAG_MS,
  busyBudget = DEFAULT_BUSY_BUDGET,
): ControllerBounds {
  return {
    max,
    min: 1,
    step: Math.max(1, Math.ceil(max / 8)),
    fullLagMs,
    busyBudget,
  };
}

/** The next in-flight limit. Pure. */
export function nextLimit(
  limit: number,
  { pressed, lagMs, busy }: ControllerSample,
  { max, min, step, fullLagMs, busyBudget }: ControllerBounds,
): number {
  const lateness = Math.min(1, Math.max(0, lagMs) / fullLagMs);
  const floor = Math.max(min, Math.ceil(max * lateness));
  const room = !pressed || (busy !== undefined && busy <= busyBudget);
  const next = room ? limit + step : Math.floor(limit / 2);
  return Math.min(max, Math.max(floor, next));
}

export type DeliveryController = {
  /** The current limit; re-evaluated at most once per interval. */
  limit(): number;
  /** Whether the last evaluation found the process under pressure. */
  readonly pressed: boolean;
  /** Reports how late the oldest callback of a claim was. */
  observeLag(lagMs: number): void;
};

export function createDeliveryController({
  bounds,
  underPressure,
  busy,
  now,
  intervalMs = CONTROL_INTERVAL_MS,
}: {
  bounds: ControllerBounds;
  underPressure: () => boolean;
  /** The worker's own thread's busy share since the last call, where it has a thread of its own. */
  busy?: () => number;
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
        current = nextLimit(current, { pressed, lagMs, busy: busy?.() }, bounds);
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
