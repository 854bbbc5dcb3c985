import { createPortWriter } from './sqlite/batching-writer.ts';
import { createSqliteQueue } from './sqlite/sqlite-queue.ts';
import type { QueueShare, QueueStore } from './store.ts';

/** A store's queue opened in another thread of the process; `close()` lets go of it. */
export type SharedQueue = QueueStore & { close(): Promise<void> };

/**
 * Opens the queue a store shared (`Store.shareQueue`), in the thread that received the share.
 * It loads no ORM and no database driver: for SQLite, its writes and reads go over the port to
 * the writer thread, and share that thread's commits with the main thread's.
 */
export function openSharedQueue(share: QueueShare, now: () => number = Date.now): SharedQueue {
  const writer = createPortWriter(share.port);
  return { ...createSqliteQueue(writer, now), close: () => writer.close() };
}
