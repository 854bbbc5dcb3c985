import { describe, expect, it } from 'vitest';
import { thisThreadsCpuNs, threadBusySampler } from '../src/thread-cpu.ts';

/** Blocks the calling thread for `ms` without running: as a thread waiting for a core does. */
function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {}
}

describe("a thread's busy share", () => {
  it('is its CPU time over the time between calls', () => {
    const readings = [5e6, 5e6 + 30e6];
    const sample = threadBusySampler(() => readings.shift());
    block(100);
    const share = sample();
    // 30 ms of CPU over at least 100 ms.
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThanOrEqual(0.3);
  });

  it("falls back to the event loop's utilization where the CPU time cannot be read", () => {
    const sample = threadBusySampler(() => undefined);
    block(100);
    // Blocked outside the event loop's poll: the loop counts all of it as busy.
    expect(sample()).toBeGreaterThan(0.9);
  });

  describe.runIf(process.platform === 'linux')('on Linux', () => {
    it("reads this thread's CPU time", () => {
      const before = thisThreadsCpuNs() as number;
      spin(50);
      expect((thisThreadsCpuNs() as number) - before).toBeGreaterThan(0);
    });

    it('does not count time the thread spent not running, which the event loop would', () => {
      const sample = threadBusySampler();
      const loop = threadBusySampler(() => undefined);
      block(200);
      expect(loop()).toBeGreaterThan(0.9);
      expect(sample()).toBeLessThan(0.2);
    });

    it('counts time the thread ran', () => {
      const sample = threadBusySampler();
      spin(200);
      expect(sample()).toBeGreaterThan(0.1);
    });
  });
});
