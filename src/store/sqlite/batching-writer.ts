import type { MessagePort } from 'node:worker_threads';
import { StoreUnavailableError } from '../errors.ts';
import type { WriterMessage, WriterReply } from './writer-thread.ts';
import {
  type BatchOutcome,
  type SerializedError,
  serializeError,
  type WriteArgs,
  type WriteKind,
  type WriteOp,
  type WriteResult,
} from './writes.ts';

/**
 * The batching half of every SQLite writer: the writes asked for in one turn of the event loop go
 * out together at its end (or `sendAt` at a time), to whatever runs them (an executor), and each
 * promise settles with its own write's result once that write's transaction has committed.
 * `writer.ts` has the executors of the main thread; the port writer below is the one of another
 * thread.
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
   * A port on which another thread of this process sends batches to the same writer thread
   * (`createPortWriter`), or undefined when the database is in memory and has no writer thread.
   * Each call makes a new port; it is transferred to the thread that uses it.
   */
  attach(): MessagePort | undefined;
};

type Item = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/** Runs one batch and answers its outcome once its transaction has committed (or failed). */
export type Executor = {
  execute(ops: WriteOp[]): Promise<BatchOutcome>;
  attach(): MessagePort | undefined;
  close(): Promise<void>;
};

/**
 * The batching half of a writer, over any executor: the writes of one turn of the event loop go
 * out together at its end, `sendAt` at a time at most; each promise settles with its own write's
 * result.
 */
export function createBatchingWriter(
  executor: Executor,
  {
    onFailure = () => {},
    sendAt = Number.POSITIVE_INFINITY,
  }: { onFailure?: (error: Error) => void; sendAt?: number } = {},
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

  /** At the end of a turn: what it gathered since the last batch went out. */
  function send(): void {
    scheduled = false;
    if (ops.length > 0) dispatch();
  }

  function dispatch(): void {
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
        if (ops.length >= sendAt) dispatch();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(send);
        }
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

export function deserializeError({ name, message, code }: SerializedError): Error {
  const error =
    name === 'StoreUnavailableError'
      ? new StoreUnavailableError(new Error(message))
      : new Error(message);
  if (name !== 'StoreUnavailableError') error.name = name;
  if (code !== undefined) Object.assign(error, { code });
  return error;
}

export type PortWriterEvents = {
  /** A commit stored new requests, whoever sent them. */
  onCreated?: () => void;
  /** The port closed from the writer thread's side: that thread stopped, and this writer with it. */
  onGone?: () => void;
};

/**
 * A writer in another thread of this process (the callback worker's), sending its batches to the
 * writer thread over a port from `attach()`. Its writes share the writer thread's commits with
 * those of the main thread.
 */
export function createPortWriter(
  port: MessagePort,
  { onCreated = () => {}, onGone = () => {} }: PortWriterEvents = {},
): Writer {
  let nextId = 0;
  let closed = false;
  let closing = false;
  const waiting = new Map<number, (outcome: BatchOutcome) => void>();
  const gone = (why: string): BatchOutcome => ({
    ok: false,
    error: { name: 'StoreUnavailableError', message: `the writer thread stopped: ${why}` },
  });
  port.on('message', ({ replies, created }: WriterReply) => {
    for (const { id, outcome } of replies ?? []) {
      const done = waiting.get(id);
      waiting.delete(id);
      done?.(outcome);
    }
    if (waiting.size === 0) port.unref();
    if (created) onCreated();
  });
  port.on('close', () => {
    closed = true;
    for (const done of waiting.values()) done(gone('its port closed'));
    waiting.clear();
    if (!closing) onGone();
  });
  return createBatchingWriter({
    execute(ops) {
      if (closed) return Promise.resolve(gone('its port closed'));
      const id = ++nextId;
      const replied = new Promise<BatchOutcome>((resolve) => waiting.set(id, resolve));
      try {
        port.postMessage({ id, ops } satisfies WriterMessage);
      } catch (error) {
        waiting.delete(id);
        return Promise.reject(error);
      }
      port.ref();
      return replied;
    },
    attach: () => undefined,
    close: async () => {
      closing = true;
      closed = true;
      port.close();
    },
  });
}
