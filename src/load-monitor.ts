import { performance } from 'node:perf_hooks';

/**
 * Whether the process is saturated by HTTP traffic: the event loop was busy for more than
 * `threshold` of each of the last few intervals while requests kept arriving, at least
 * `minRequestRate` per second. A trickle (a load balancer's health checks, a metrics scrape, an
 * operator's page) is not traffic: where the worker shares the event loop, its own busyness during
 * a drain would otherwise count as pressure whenever one such request arrived, and slow the drain
 * down. It is the sensor of the worker's delivery controller (`worker/delivery-controller.ts`),
 * which then backs off so that acknowledgements, which callers wait for, keep their latency.
 * Sampled on a timer, so asking costs nothing.
 *
 * The threshold is well below 1: an event loop serving a saturating load waits part of each turn
 * for its commits (they run in the writer thread), so it shows about 0.7 busy, not 1, while the
 * callback worker's threads compete with it for the CPU.
 *
 * Saturation counts as pressure only once it has lasted `sustainedSamples` intervals in a row
 * (300 ms by default), and ends at the first interval without it. A moment of it is not a burst:
 * the first seconds of 1,000 requests per second after an idle spell read as saturated for
 * 100–600 ms at a time, and the worker, backing off for each of those moments, fell behind the
 * arrivals by hundreds of milliseconds (bench/README.md).
 */
export type LoadMonitor = {
  /** Call once per incoming HTTP request. */
  requestStarted(): void;
  underPressure(): boolean;
  /** Starts sampling; until then there is never pressure. */
  start(): void;
  stop(): void;
};

export function createLoadMonitor({
  threshold = 0.6,
  intervalMs = 100,
  minRequestRate = 100,
  sustainedSamples = 3,
} = {}): LoadMonitor {
  const minRequests = Math.max(1, Math.ceil((minRequestRate * intervalMs) / 1000));
  let previous = performance.eventLoopUtilization();
  let requests = 0;
  /** Intervals in a row that were saturated, up to the last sample. */
  let saturatedRun = 0;
  let timer: NodeJS.Timeout | undefined;
  const sample = () => {
    const current = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(current, previous);
    previous = current;
    saturatedRun = utilization > threshold && requests >= minRequests ? saturatedRun + 1 : 0;
    requests = 0;
  };
  return {
    requestStarted() {
      requests++;
    },
    underPressure: () => saturatedRun >= sustainedSamples,
    start() {
      if (timer) return;
      previous = performance.eventLoopUtilization();
      timer = setInterval(sample, intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      saturatedRun = 0;
    },
  };
}
