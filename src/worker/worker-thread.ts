import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { openSharedQueue } from '../store/shared-queue.ts';
import type { QueueShare } from '../store/store.ts';
import { lowerThisThreadsPriority } from '../thread-priority.ts';
import { createCallbackWorker } from './callback-worker.ts';
import type { CallbackWorkerSettings } from './callback-worker-settings.ts';
import { createForwardedMetrics, type MetricReport } from './worker-metrics.ts';

/**
 * The callback worker's own thread: claims, decides, signs and delivers callbacks, so that none of
 * that work competes with HTTP requests for the main thread's event loop. It opens the store's
 * queue from the share it is given (for SQLite, a port to the writer thread), and loads no HTTP
 * server, no ORM and no schema library. Its log lines and metrics go to the main thread, which
 * writes and serves them with its own.
 *
 * Messages in: start, wake, pressure, stop. Messages out: ready (or the thread fails to start),
 * log, metrics, stopped.
 */

export type WorkerThreadData = {
  settings: CallbackWorkerSettings;
  queue: QueueShare;
  logLevel: string;
  /**
   * This thread's nice value (0 = unchanged): above 0 the process's HTTP event loop and its
   * writer thread come first.
   */
  nice: number;
};

export type ToWorkerThread =
  | { type: 'start' }
  | { type: 'wake' }
  | { type: 'pressure'; pressed: boolean }
  | { type: 'stop'; graceMs: number };

export type FromWorkerThread =
  | { type: 'ready' }
  | { type: 'log'; lines: string[] }
  | { type: 'metrics'; reports: MetricReport[] }
  | { type: 'stopped' };

const port = parentPort;
if (!port) throw new Error('worker-thread.ts runs as a worker thread');
const data = workerData as WorkerThreadData;
const post = (message: FromWorkerThread) => port.postMessage(message);

// Log lines cross to the main thread once per turn, however many were written in it.
let lines: string[] = [];
function flushLines(): void {
  if (lines.length === 0) return;
  const batch = lines;
  lines = [];
  post({ type: 'log', lines: batch });
}
const log = pino(
  { level: data.logLevel, name: 'chargegate' },
  {
    write(line: string) {
      if (lines.push(line) === 1) setImmediate(flushLines);
    },
  },
);

if (data.nice > 0 && !lowerThisThreadsPriority(data.nice)) {
  log.warn(
    `the callback worker's thread could not take nice ${data.nice} (WORKER_NICE): under a saturating load it competes with HTTP requests as an equal`,
  );
}

const metrics = createForwardedMetrics((reports) => post({ type: 'metrics', reports }));
let pressed = false;
// This thread's own event loop: how busy the worker keeps it, between two controller evaluations.
let lastUtilization = performance.eventLoopUtilization();
const busy = () => {
  const now = performance.eventLoopUtilization();
  const { utilization } = performance.eventLoopUtilization(now, lastUtilization);
  lastUtilization = now;
  return utilization;
};
const queue = openSharedQueue(data.queue);
const { worker, close } = await createCallbackWorker({
  settings: data.settings,
  queue,
  log,
  metrics,
  underPressure: () => pressed,
  busy,
});
// New requests wake the worker as the writer thread reports their commit, not through the main
// thread.
queue.onCreated(() => worker.wake());
// The writer thread stopped under this one (it crashed): this thread's port to it is gone, so
// nothing more can be claimed or recorded here. Failing makes the main thread report the worker
// failed (the process exits 1 and its supervisor restarts it; the claims' leases expire).
let stopping = false;
queue.onGone(() => {
  if (!stopping) throw new Error("the writer thread stopped, and with it this thread's queue");
});

port.on('message', (message: ToWorkerThread) => {
  if (message.type === 'start') worker.start();
  else if (message.type === 'wake') worker.wake();
  else if (message.type === 'pressure') pressed = message.pressed;
  else void stop(message.graceMs);
});

async function stop(graceMs: number): Promise<void> {
  stopping = true;
  // Attempts in flight finish, their records commit, unfinished claims are released: all
  // through the queue, which closes only after that.
  await worker.stop(graceMs);
  await close();
  await queue.close();
  metrics.flushNow();
  flushLines();
  post({ type: 'stopped' });
  port?.close();
}

post({ type: 'ready' });
