import { once } from 'node:events';
import type { Logger } from 'pino';
import pino from 'pino';
import { siblingModule, spawnThread } from '../spawn-thread.ts';
import type { QueueShare } from '../store/store.ts';
import type { CallbackWorker } from './callback-worker.ts';
import type { CallbackWorkerSettings } from './callback-worker-settings.ts';
import type { Worker } from './worker.ts';
import { applyMetricReports, type WorkerMetrics } from './worker-metrics.ts';
import type { FromWorkerThread, ToWorkerThread, WorkerThreadData } from './worker-thread.ts';

/**
 * The callback worker run in its own thread (`worker-thread.ts`), behind the same `Worker` the
 * event loop's one has. Its log lines are written to `log`'s stream as they are, its metrics
 * replayed on `metrics`, and the load monitor's verdict is passed to it when it changes.
 */

export type ThreadedWorkerDeps = {
  settings: CallbackWorkerSettings;
  queue: QueueShare;
  log: Logger;
  metrics: WorkerMetrics;
  underPressure: () => boolean;
  /** The thread's nice value, 0 = unchanged (see `worker-thread.ts`). */
  nice: number;
  /** The thread failed (it threw, or exited while it should run): the worker is gone. */
  onFailure: (error: Error) => void;
};

const THREAD_URL = siblingModule('worker-thread', import.meta.url);

/**
 * Its heap: the attempts in flight (WORKER_CONCURRENCY, each a small body and its answer's first
 * KB) and a claim of at most MAX_CLAIM rows. Every attempt in flight is alive at each scavenge,
 * so the young generation is sized to outlive them: at 2 MB the thread paused 17.9 µs per callback
 * for the garbage collector, at 6 MB 9.3 µs (bench/README.md).
 */
const THREAD_LIMITS = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 6 };

/** How often the load monitor's verdict is looked at; the thread hears only of changes. */
const PRESSURE_CHECK_MS = 50;

export async function startThreadedWorker({
  settings,
  queue,
  log,
  metrics,
  underPressure,
  nice,
  onFailure,
}: ThreadedWorkerDeps): Promise<CallbackWorker> {
  const thread = spawnThread(THREAD_URL, {
    workerData: { settings, queue, logLevel: log.level, nice } satisfies WorkerThreadData,
    transferList: [queue.port],
    execArgv: [],
    resourceLimits: THREAD_LIMITS,
  });
  const stream = (log as unknown as Record<symbol, { write(line: string): void }>)[
    pino.symbols.streamSym
  ];
  const send = (message: ToWorkerThread) => thread.postMessage(message);
  let state: 'starting' | 'ready' | 'running' | 'stopping' | 'stopped' = 'starting';

  const ready = new Promise<void>((resolve, reject) => {
    thread.on('message', (message: FromWorkerThread) => {
      if (message.type === 'ready') {
        state = 'ready';
        resolve();
      } else if (message.type === 'log') {
        for (const line of message.lines) stream?.write(line);
      } else if (message.type === 'metrics') {
        applyMetricReports(metrics, message.reports);
      } else {
        state = 'stopped';
      }
    });
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      if (state === 'starting') reject(error);
      else if (state !== 'stopping') onFailure(error);
      state = 'stopped';
    };
    thread.on('error', fail);
    thread.on('exit', (code) => {
      if (state === 'stopped' || state === 'stopping') state = 'stopped';
      else fail(new Error(`the callback worker's thread exited with code ${code}`));
    });
  });
  await ready;

  let pressed = false;
  const pressure = setInterval(() => {
    const now = underPressure();
    if (now === pressed) return;
    pressed = now;
    send({ type: 'pressure', pressed });
  }, PRESSURE_CHECK_MS);
  pressure.unref();

  // One wake per turn of the event loop reaches the thread, however many commits there were.
  let wakeSent = false;
  let stopped: Promise<void> | undefined;
  const worker: Worker = {
    start() {
      if (state !== 'ready') return;
      state = 'running';
      send({ type: 'start' });
    },
    wake() {
      if (wakeSent || state !== 'running') return;
      wakeSent = true;
      setImmediate(() => {
        wakeSent = false;
        if (state === 'running') send({ type: 'wake' });
      });
    },
    stop(graceMs) {
      stopped ??= (async () => {
        clearInterval(pressure);
        if (state === 'stopped') return;
        state = 'stopping';
        const exited = once(thread, 'exit').catch(() => undefined);
        send({ type: 'stop', graceMs });
        await exited;
      })();
      return stopped;
    },
    get running() {
      return state === 'running';
    },
  };
  return { worker, close: async () => {} };
}
