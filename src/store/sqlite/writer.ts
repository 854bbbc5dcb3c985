import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { StoreUnavailableError } from '../errors.ts';
import { type ConnectionOptions, isMemoryPath } from './connection.ts';
import type { WriterMessage, WriterReply } from './writer-thread.ts';
import {
  type BatchOutcome,
  createBatchRunner,
  type SerializedError,
  serializeError,
  type WriteArgs,
  type WriteKind,
  type WriteOp,
  type WriteResult,
} from './writes.ts';

/**
 * Group commit through the writer thread. Writes asked for in the same turn of the event loop go
 * to the thread as one batch, which it runs in one IMMEDIATE transaction (one fsync); each
 * promise settles only after that commit, so an acknowledgement is never sent for a row that was
 * not committed. While the thread commits one batch, the next one gathers here: the busier the
 * service, the larger the batches.
 *
 * An in-memory database has no file a second connection could open: its batches run on the main
 * connection, the same statements in the same transaction, synchronously.
 */
export type Writer = {
  run<K extends WriteKind>(kind: K, args: WriteArgs<K>): Promise<WriteResult<K>>;
  /** Resolves once everything asked for so far has committed (or failed). */
  flush(): Promise<void>;
  /** Flushes, then stops the thread. */
  close(): Promise<void>;
  /** How many writes wait for the next batch. */
  readonly queued: number;
};

export type WriterOptions = ConnectionOptions & {
  /** The main thread's connection: an in-memory database's batches run on it. */
  client: BetterSqlite3.Database;
  /** Runs before each batch is sent; throwing refuses the whole batch (nothing of it is written). */
  beforeCommit?: () => void;
  /** Called with the size of each committed batch. */
  onBatch?: (size: number) => void;
  /** Called with the error of each batch whose transaction could not commit. */
  onFailure?: (error: Error) => void;
};

type Item = { op: WriteOp; resolve: (value: unknown) => void; reject: (error: Error) => void };

type Executor = { execute(ops: WriteOp[]): Promise<BatchOutcome>; close(): Promise<void> };

export function createWriter(options: WriterOptions): Writer {
  const { beforeCommit, onBatch, onFailure } = options;
  const executor = isMemoryPath(options.path)
    ? inlineExecutor(options.client)
    : threadExecutor({ path: options.path, sync: options.sync });
  let queue: Item[] = [];
  /** The batch being gathered (until the end of this turn) or committed; none while idle. */
  let cycle: Promise<void> | undefined;

  function settle(batch: Item[], outcome: BatchOutcome): void {
    if (!outcome.ok) {
      const error = deserializeError(outcome.error);
      onFailure?.(error);
      for (const item of batch) item.reject(error);
      return;
    }
    onBatch?.(batch.length);
    batch.forEach((item, index) => {
      const settled = outcome.results[index];
      if (settled?.ok) item.resolve(settled.value);
      else item.reject(deserializeError(settled?.error ?? { name: 'Error', message: 'no result' }));
    });
  }

  async function commitQueued(): Promise<void> {
    const batch = queue;
    queue = [];
    try {
      beforeCommit?.();
    } catch (error) {
      const refused = error instanceof Error ? error : new Error(String(error));
      onFailure?.(refused);
      for (const item of batch) item.reject(refused);
      return;
    }
    let outcome: BatchOutcome;
    try {
      outcome = await executor.execute(batch.map((item) => item.op));
    } catch (error) {
      // Not sent at all (an argument that cannot be cloned): nothing of the batch was written.
      outcome = { ok: false, error: serializeError(error) };
    }
    settle(batch, outcome);
  }

  /**
   * Sends what is queued once this turn of the event loop is over, and once that batch has
   * committed, whatever was queued meanwhile.
   */
  function schedule(): void {
    cycle ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(commitQueued)
      .finally(() => {
        cycle = undefined;
        if (queue.length > 0) schedule();
      });
  }

  return {
    run<K extends WriteKind>(kind: K, args: WriteArgs<K>): Promise<WriteResult<K>> {
      return new Promise((resolve, reject) => {
        queue.push({ op: { kind, args } as WriteOp, resolve: resolve as Item['resolve'], reject });
        schedule();
      });
    },
    async flush() {
      while (cycle) await cycle;
    },
    async close() {
      await this.flush();
      await executor.close();
    },
    get queued() {
      return queue.length;
    },
  };
}

function deserializeError({ name, message, code }: SerializedError): Error {
  const error =
    name === 'StoreUnavailableError'
      ? new StoreUnavailableError(new Error(message))
      : new Error(message);
  if (name !== 'StoreUnavailableError') error.name = name;
  if (code !== undefined) Object.assign(error, { code });
  return error;
}

/** An error from a thread arrives as what survived cloning: maybe only its `code`. */
function describe(cause: unknown): string {
  const { message, code } = (cause ?? {}) as { message?: unknown; code?: unknown };
  if (typeof message === 'string' && message !== '') return message;
  return typeof code === 'string' ? code : String(cause);
}

function inlineExecutor(client: BetterSqlite3.Database): Executor {
  const runBatch = createBatchRunner(client);
  return {
    execute: async (ops) => runBatch(ops),
    close: async () => {},
  };
}

/** The thread's module: compiled JavaScript next to this file, or TypeScript under the tests. */
const THREAD_URL = new URL(
  import.meta.url.endsWith('.ts') ? './writer-thread.ts' : './writer-thread.js',
  import.meta.url,
);

/**
 * The thread's heap limits. V8 lets the process's own `--max-semi-space-size` and
 * `--max-old-space-size` (set by `npm start` for the main thread) override a new isolate's
 * `resourceLimits`, which would give this thread the main thread's large young generation:
 * about 25 MB more resident memory for a thread that holds one batch at a time. Unsetting them
 * before the thread starts lets its own limits apply; the main isolate keeps the limits it was
 * created with. Its largest batch is a claim of at most MAX_CLAIM rows plus the requests of
 * MAX_CONNECTIONS connections: a few MB.
 */
const THREAD_LIMITS = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 };

/** TypeScript (under the tests) is loaded through tsx, registered inside the thread. */
function spawnThread(options: WorkerOptions): Worker {
  setFlagsFromString('--max-semi-space-size=0');
  setFlagsFromString('--max-old-space-size=0');
  if (!THREAD_URL.pathname.endsWith('.ts')) return new Worker(THREAD_URL, options);
  const script = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(THREAD_URL.href)}); });`;
  return new Worker(script, { ...options, eval: true });
}

function threadExecutor(connection: ConnectionOptions): Executor {
  let thread: Worker | undefined;
  let nextId = 0;
  const waiting = new Map<number, (outcome: BatchOutcome) => void>();

  function failWaiting(cause: unknown): void {
    // Deserialized as a StoreUnavailableError with this message as its cause.
    const error: SerializedError = {
      name: 'StoreUnavailableError',
      message: `the writer thread stopped: ${describe(cause)}`,
    };
    for (const done of waiting.values()) done({ ok: false, error });
    waiting.clear();
  }

  function start(): Worker {
    const started = spawnThread({
      workerData: connection,
      execArgv: [],
      // It holds a connection and a batch at a time: a small heap is plenty.
      resourceLimits: THREAD_LIMITS,
    });
    started.on('message', (reply: WriterReply) => {
      const done = waiting.get(reply.id);
      waiting.delete(reply.id);
      // Idle, the thread does not keep the process alive.
      if (waiting.size === 0) started.unref();
      done?.(reply.outcome);
    });
    started.on('error', (error) => {
      if (thread === started) thread = undefined;
      failWaiting(error);
    });
    started.on('exit', (code) => {
      if (thread === started) thread = undefined;
      failWaiting(new Error(`exit code ${code}`));
    });
    return started;
  }

  return {
    execute(ops) {
      thread ??= start();
      const current = thread;
      const id = ++nextId;
      const replied = new Promise<BatchOutcome>((resolve) => waiting.set(id, resolve));
      try {
        current.postMessage({ id, ops } satisfies WriterMessage);
      } catch (error) {
        waiting.delete(id);
        return Promise.reject(error);
      }
      current.ref();
      return replied;
    },
    async close() {
      const current = thread;
      if (!current) return;
      thread = undefined;
      const exited = once(current, 'exit').catch(() => undefined);
      // Held until it has closed the database: the process must not end before that.
      current.ref();
      current.postMessage({ close: true });
      await exited;
    },
  };
}
