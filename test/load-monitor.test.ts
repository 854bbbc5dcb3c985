import { describe, expect, it } from 'vitest';
import { createLoadMonitor, type LoadMonitor } from '../src/load-monitor.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
function busy(ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {}
}

/** `count` intervals (of 50 ms) of a busy loop, with `requestsEach` requests arriving in each. */
async function busyIntervals(monitor: LoadMonitor, count: number, requestsEach: number) {
  for (let i = 0; i < count; i++) {
    for (let r = 0; r < requestsEach; r++) monitor.requestStarted();
    busy(60);
    await tick(0);
  }
}

describe('load monitor', () => {
  it('reports pressure only while the loop is saturated and requests arrive', async () => {
    const monitor = createLoadMonitor({ intervalMs: 50 });
    monitor.start();
    try {
      expect(monitor.underPressure()).toBe(false);

      // Busy without requests: the worker's own work is no reason to hold back.
      await busyIntervals(monitor, 4, 0);
      expect(monitor.underPressure()).toBe(false);

      await busyIntervals(monitor, 4, 10);
      expect(monitor.underPressure()).toBe(true);

      monitor.requestStarted();
      await tick(150);
      expect(monitor.underPressure()).toBe(false);
    } finally {
      monitor.stop();
    }
  });

  it('takes a moment of saturation for no pressure, and three intervals of it in a row for pressure', async () => {
    const monitor = createLoadMonitor({ intervalMs: 50 });
    monitor.start();
    try {
      await busyIntervals(monitor, 2, 10);
      expect(monitor.underPressure()).toBe(false);

      // A quiet moment between: the count starts again.
      await tick(120);
      await busyIntervals(monitor, 2, 10);
      expect(monitor.underPressure()).toBe(false);

      await busyIntervals(monitor, 1, 10);
      expect(monitor.underPressure()).toBe(true);
    } finally {
      monitor.stop();
    }
  });

  it('takes a trickle of requests on a busy loop for no pressure, and a stream for pressure', async () => {
    // 100 requests per second over 50 ms intervals: 5 per interval make traffic.
    const monitor = createLoadMonitor({ intervalMs: 50, minRequestRate: 100 });
    monitor.start();
    try {
      await busyIntervals(monitor, 4, 1);
      expect(monitor.underPressure()).toBe(false);
      await busyIntervals(monitor, 4, 20);
      expect(monitor.underPressure()).toBe(true);
      await busyIntervals(monitor, 4, 1);
      expect(monitor.underPressure()).toBe(false);
    } finally {
      monitor.stop();
    }
  });
});
