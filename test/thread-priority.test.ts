import { once } from 'node:events';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { spawnThread } from '../src/spawn-thread.ts';

/** Runs `lowerThisThreadsPriority(nice)` in a thread of its own that starts at nice `start`. */
async function inThread(start: number, nice: number) {
  const thread = spawnThread(new URL('./fixtures/thread-priority-worker.ts', import.meta.url), {
    workerData: { start, nice },
  });
  const [report] = (await once(thread, 'message')) as [
    { set: boolean; nice: number; main: number },
  ];
  await thread.terminate();
  return report;
}

describe.runIf(process.platform === 'linux')("lowering a thread's CPU priority", () => {
  const base = getPriority(process.pid);

  it('raises the nice value of the calling thread only', async () => {
    expect(await inThread(base, 19)).toEqual({ set: true, nice: 19, main: base });
  });

  it('leaves a thread already at a lower priority where it is', async () => {
    expect(await inThread(Math.max(base, 15), 10)).toEqual({
      set: true,
      nice: Math.max(base, 15),
      main: base,
    });
  });
});
