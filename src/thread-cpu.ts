import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/**
 * How much of a core the calling thread used since the last call (0–1): its time on a CPU, from
 * `/proc/thread-self/schedstat` (Linux), over the time between calls. Where that cannot be read,
 * the event loop's utilization stands in.
 *
 * The two differ for a thread that waits. The event loop's utilization counts every moment
 * outside its poll as busy: a thread at nice 19 waiting for a core while HTTP takes both reads as
 * busy for all that wait, and so does a synchronous block. Its time on a CPU counts what it ran.
 * The worker's busy budget is about the CPU it takes from the intake, so it is read here.
 *
 * Call it from the thread it measures: `/proc/thread-self` is the calling thread.
 */
export function threadBusySampler(
  readCpuNs: () => number | undefined = thisThreadsCpuNs,
): () => number {
  let lastUtilization = performance.eventLoopUtilization();
  let lastCpuNs = readCpuNs();
  let lastAt = performance.now();
  return () => {
    const utilization = performance.eventLoopUtilization();
    const loop = performance.eventLoopUtilization(utilization, lastUtilization).utilization;
    const cpuNs = readCpuNs();
    const at = performance.now();
    const share =
      cpuNs === undefined || lastCpuNs === undefined
        ? loop
        : (cpuNs - lastCpuNs) / 1e6 / Math.max(at - lastAt, 1e-3);
    lastUtilization = utilization;
    lastCpuNs = cpuNs;
    lastAt = at;
    return Math.min(1, Math.max(0, share));
  };
}

/** The calling thread's time on a CPU so far, in ns (Linux), or undefined where it cannot be read. */
export function thisThreadsCpuNs(): number | undefined {
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
    return Number.isFinite(ns) ? ns : undefined;
  } catch {
    return undefined;
  }
}
