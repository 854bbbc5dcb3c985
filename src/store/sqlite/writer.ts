import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { MessageChannel, type MessagePort, Worker, type WorkerOptions } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { StoreUnavailableError } from '../errors.ts';
import { type ConnectionOptions, isMemoryPath } from './connection.ts';
import type { FileIdentity } from './file-identity.ts';
import type { WriterData, WriterMessage, WriterReply } from './writer-thread.ts';
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
 * Group commit through the writer thread. The writes asked for in one turn of the event loop go
 * to the thread as one batch at the end of that turn, whether or not it is still committing an
 * earlier one: the thread commits together every batch that has arrived by the time it is free
 * (`writer-thread.ts`), so the busier the service, the larger the commits, and the event loop
 * never waits for a commit before sending the next batch. Each promise settles only after the
 * commit of its write, so an acknowledgement is never sent for a row that was not committed.
 *
 * An in-memory database has no file a second connection could open: its batches run on the main
 * connection, the same statements in the same kind of transaction, at the end of the turn.
 */
export type Writer = {
  run<K extends WriteKind>(kind: K, args: WriteArgs<K>): Promise<WriteResult<K>>;
  /** Resolves once everything asked for so far has committed (or failed). */
  flush(): Promise<void>;
  /** Flushes, then stops the thread. */
  close(): Promise<void>;
  /** How many writes wait for the end of this turn. */
  readonly queued: number;
  /**
   * A port on which another thread may send batches to the same writer (see `port-writer.ts`),
   * or undefined when the database is in memory and has no writer thread.
   */
  attach(): MessagePort | undefined;
};

export type WriterOptions = ConnectionOptions & {
  /** The main thread's connection: an in-memory database's batches run on it. */
  client: BetterSqlite3.Database;
  /** The file the main thread opened: the thread refuses to write once the path names another. */
  file: FileIdentity;
  /** Called with the number of writes of each transaction that committed. */
  onCommit?: (size: number) => void;
  /** Called with the error of each batch whose transaction could not commit. */
  onFailure?: (error: Error) => void;
};

type Item = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/** Runs one batch; `onCommit` hears of every commit, this batch's and (for a thread) others'. */
export type Executor = {
  execute(ops: WriteOp[]): Promise<BatchOutcome>;
  attach(): MessagePort | undefined;
  close(): Promise<void>;
};

export function createWriter(options: WriterOptions): Writer {
  const onCommit = options.onCommit ?? (() => {});
  const executor = isMemoryPath(options.path)
    ? inlineExecutor(options.client, options.file, onCommit)
    : threadExecutor(
        { path: options.path, sync: options.sync, opened: options.file.opened },
        onCommit,
      );
  return createBatchingWriter(executor, options.onFailure);
}

/**
 * The batching half of a writer, over any executor: the writes of one turn of the event loop go
 * out together at its end; each promise settles with its own write's result.
 */
export function createBatchingWriter(
  executor: Executor,
  onFailure: (error: Error) => void = () => {},
): Writer {
  let ops: WriteOp[] = [];
  let items: Item[] = [];
  let scheduled = false;
  /** Batches sent and not yet answered. */
  const committing = new Set<Promise<void>>();

  function settle(batch: Item[], outcome: BatchOutcome): void {
    if (!outcome.ok) {
      const error = deserializeError(outcome.error);
      onFailure(error);
      for (const item of batch) item.reject(error);
      return;
    }
    for (let index = 0; index < batch.length; index++) {
      const item = batch[index] as Item;
      const settled = outcome.results[index];
      if (settled?.ok) item.resolve(settled.value);
      else item.reject(deserializeError(settled?.error ?? { name: 'Error', message: 'no result' }));
    }
  }

  function send(): void {
    scheduled = false;
    const batch = items;
    const sent = ops;
    items = [];
    ops = [];
    let answered: Promise<BatchOutcome>;
    try {
      answered = executor.execute(sent);
    } catch (error) {
      // Not sent at all (an argument that cannot be cloned): nothing of the batch was written.
      answered = Promise.resolve({ ok: false, error: serializeError(error) });
    }
    const done = answered.then(
      (outcome) => settle(batch, outcome),
      (error: unknown) => settle(batch, { ok: false, error: serializeError(error) }),
    );
    committing.add(done);
    void done.finally(() => committing.delete(done));
  }

  return {
    run<K extends WriteKind>(kind: K, args: WriteArgs<K>): Promise<WriteResult<K>> {
      return new Promise((resolve, reject) => {
        ops.push({ kind, args } as WriteOp);
        items.push({ resolve: resolve as Item['resolve'], reject });
        if (scheduled) return;
        scheduled = true;
        setImmediate(send);
      });
    },
    async flush() {
      // Settling a batch may ask for more writes (an attempt's record after its claim): those
      // are waited for too.
      while (scheduled || committing.size > 0) {
        if (scheduled) await new Promise((resolve) => setImmediate(resolve));
        else await Promise.all(committing);
      }
    },
    async close() {
      await this.flush();
      await executor.close();
    },
    get queued() {
      return ops.length;
    },
    attach: () => executor.attach(),
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

function inlineExecutor(
  client: BetterSqlite3.Database,
  file: FileIdentity,
  onCommit: (size: number) => void,
): Executor {
  const runBatches = createBatchRunner(client, () => file.problem());
  return {
    async execute(ops) {
      const [outcome] = runBatches([ops]);
      if (outcome?.ok) onCommit(ops.length);
      return outcome as BatchOutcome;
    },
    attach: () => undefined,
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
 * created with. Its largest transaction is a claim of at most MAX_CLAIM rows plus the requests
 * of MAX_CONNECTIONS connections: a few MB.
 */
const THREAD_LIMITS = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 };

/** TypeScript (under the tests) is loaded through tsx, registered inside the thread. */
export function spawnThread(url: URL, options: WorkerOptions): Worker {
  setFlagsFromString('--max-semi-space-size=0');
  setFlagsFromString('--max-old-space-size=0');
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const script = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(script, { ...options, eval: true });
}

function threadExecutor(data: WriterData, onCommit: (size: number) => void): Executor {
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
    const started = spawnThread(THREAD_URL, {
      workerData: data,
      execArgv: [],
      // It holds a connection and a transaction at a time: a small heap is plenty.
      resourceLimits: THREAD_LIMITS,
    });
    started.on('message', ({ replies, committed }: WriterReply) => {
      if (committed > 0) onCommit(committed);
      if (!replies) return;
      for (const { id, outcome } of replies) {
        const done = waiting.get(id);
        waiting.delete(id);
        done?.(outcome);
      }
      // Idle, the thread does not keep the process alive.
      if (waiting.size === 0) started.unref();
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
    attach() {
      thread ??= start();
      const { port1, port2 } = new MessageChannel();
      thread.postMessage({ attach: port1 }, [port1]);
      return port2;
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
