import { parentPort, workerData } from 'node:worker_threads';
import { type ConnectionOptions, openConnection } from './connection.ts';
import { type BatchOutcome, createBatchRunner, createWrites, type Writes } from './writes.ts';

/**
 * The writer thread: owns the write connection and runs each batch it is sent in one
 * transaction, so that the commit's fsync waits here and not on the event loop. It loads
 * better-sqlite3 and `writes.ts`, nothing more.
 *
 * Messages in: `{ id, ops }` (a batch), `{ close: true }`. Messages out: `{ id, outcome }`.
 */

export type WriterMessage = {
  id: number;
  ops: Parameters<ReturnType<typeof createBatchRunner>>[0];
};
export type WriterReply = { id: number; outcome: BatchOutcome };

const port = parentPort;
if (!port) throw new Error('writer-thread.ts runs as a worker thread');

const client = openConnection(workerData as ConnectionOptions);
// Statements are prepared on the first batch, once the main thread has migrated the database.
let writes: Writes | undefined;
const runBatch = createBatchRunner(client, () => {
  writes ??= createWrites(client);
  return writes;
});

port.on('message', (message: WriterMessage | { close: true }) => {
  if ('close' in message) {
    client.close();
    port.close();
    return;
  }
  const reply: WriterReply = { id: message.id, outcome: runBatch(message.ops) };
  port.postMessage(reply);
});
