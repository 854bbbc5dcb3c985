import { describe, expect, it } from 'vitest';
import { createLoadMonitor } from '../src/load-monitor.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
function busy(ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {}
}

describe('load monitor', () => {
  it('reports pressure only while the loop is saturated and requests arrive', async () => {
    const monitor = createLoadMonitor({ intervalMs: 50 });
    monitor.start();
    try {
      expect(monitor.underPressure()).toBe(false);

      // Busy without requests: the worker's own work is no reason to hold back.
      for (let i = 0; i < 4; i++) {
        busy(60);
        await tick(0);
      }
      expect(monitor.underPressure()).toBe(false);

      for (let i = 0; i < 4; i++) {
        monitor.requestStarted();
        busy(60);
        await tick(0);
      }
      expect(monitor.underPressure()).toBe(true);

      monitor.requestStarted();
      await tick(150);
      expect(monitor.underPressure()).toBe(false);
    } finally {
      monitor.stop();
    }
  });
});
