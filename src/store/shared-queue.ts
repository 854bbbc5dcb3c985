import { createPortWriter } from './sqlite/batching-writer.ts';
import { createSqliteQueue } from './sqlite/sqlite-queue.ts';
import type { QueueShare, QueueStore } from './store.ts';

/** A store's queue opened in another thread of the process; `close()` lets go of it. */
export type SharedQueue = QueueStore & {
  /** Calls `listener` after new requests were committed by any thread of the process. */
  onCreated(listener: () => void): void;
  /**
   * Calls `listener` if the writer thread stops under the queue (it crashed): from then on every
   * write fails, and the queue cannot be opened again from here.
   */
  onGone(listener: () => void): void;
  close(): Promise<void>;
};

/**
 * Opens the queue a store shared (`Store.shareQueue`), in the thread that received the share.
 * It loads no ORM and no database driver: for SQLite, its writes and reads go over the port to
 * the writer thread, and share that thread's commits with the main thread's.
 */
export function openSharedQueue(share: QueueShare, now: () => number = Date.now): SharedQueue {
  const created: (() => void)[] = [];
  const gone: (() => void)[] = [];
  const writer = createPortWriter(share.port, {
    onCreated: () => {
      for (const listener of created) listener();
    },
    onGone: () => {
      for (const listener of gone) listener();
    },
  });
  return {
    ...createSqliteQueue(writer, now),
    onCreated: (listener) => created.push(listener),
    onGone: (listener) => gone.push(listener),
    close: () => writer.close(),
  };
}
