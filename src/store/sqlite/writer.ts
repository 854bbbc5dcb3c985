import { once } from 'node:events';
import { MessageChannel, type Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { siblingModule, spawnThread } from '../../spawn-thread.ts';
import { createBatchingWriter, type Executor, type Writer } from './batching-writer.ts';
import { type ConnectionOptions, isMemoryPath } from './connection.ts';
import type { FileIdentity } from './file-identity.ts';
import type { WriterData, WriterMessage, WriterReply } from './writer-thread.ts';
import { type BatchOutcome, createBatchRunner, type SerializedError } from './writes.ts';

/**
 * The main thread's writer sends a batch as soon as it holds this many writes, before the end of
 * its turn. Under a burst one turn parses the requests of many connections, about 100 µs each on
 * a 2-core VM, and the writer thread would wait for the last of them: sent by twelves, the first
 * writes commit while the event loop still parses the rest, their answers go out sooner, and the
 * connections stop moving as one convoy that leaves the event loop idle during every commit.
 * Twelve requests take the event loop about as long to parse as the thread takes to commit a
 * transaction (bench/README.md, "On a tenth VM"). The callback worker's thread keeps whole turns:
 * no client waits on its batches.
 */
export const SEND_AT = 12;

/**
 * Group commit through the writer thread. The writes asked for in one turn of the event loop go
 * to the thread as one batch at the end of that turn (`SEND_AT` at a time when the turn asks for
 * more), whether or not it is still committing an earlier one: the thread commits together every
 * batch that has arrived by the time it is free (`writer-thread.ts`), so the busier the service,
 * the larger the commits, and the event loop never waits for a commit before sending the next
 * batch. Each promise settles only after the commit of its write, so an acknowledgement is never
 * sent for a row that was not committed.
 *
 * An in-memory database has no file a second connection could open: its batches run on the main
 * connection, the same statements in the same kind of transaction, when the batch goes out.
 */
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

export function createWriter(options: WriterOptions): Writer {
  const onCommit = options.onCommit ?? (() => {});
  const executor = isMemoryPath(options.path)
    ? inlineExecutor(options.client, options.file, onCommit)
    : threadExecutor(
        { path: options.path, sync: options.sync, opened: options.file.opened },
        onCommit,
      );
  return createBatchingWriter(executor, { onFailure: options.onFailure, sendAt: SEND_AT });
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

const THREAD_URL = siblingModule('writer-thread', import.meta.url);

/**
 * The thread's heap limits (see `spawnThread`). Its largest transaction is a claim of at most
 * MAX_CLAIM rows plus the requests of MAX_CONNECTIONS connections: a few MB.
 */
const THREAD_LIMITS = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 };

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
