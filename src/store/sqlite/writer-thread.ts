import { parentPort, workerData } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { type ConnectionOptions, openConnection } from './connection.ts';
import { type BatchOutcome, createBatchRunner, serializeError, type WriteOp } from './writes.ts';

/**
 * The writer thread: owns the write connection and runs each batch it is sent in one
 * transaction, so that the commit's fsync waits here and not on the event loop. It loads
 * better-sqlite3 and `writes.ts`, nothing more.
 *
 * Messages in: `{ id, ops }` (a batch), `{ close: true }`. Messages out: `{ id, outcome }`.
 */

export type WriterMessage = { id: number; ops: WriteOp[] };
export type WriterReply = { id: number; outcome: BatchOutcome };

const port = parentPort;
if (!port) throw new Error('writer-thread.ts runs as a worker thread');

// Opened on the first batch, and again on the next one if it could not be: a batch it cannot
// run fails with the error SQLite gave (a file that cannot be opened is SQLITE_CANTOPEN).
let runBatch: ReturnType<typeof createBatchRunner> | undefined;
let client: BetterSqlite3.Database | undefined;

function batchRunner(): ReturnType<typeof createBatchRunner> {
  if (runBatch) return runBatch;
  client = openConnection(workerData as ConnectionOptions);
  runBatch = createBatchRunner(client);
  return runBatch;
}

function run(ops: WriteOp[]): BatchOutcome {
  try {
    return batchRunner()(ops);
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}

port.on('message', (message: WriterMessage | { close: true }) => {
  if ('close' in message) {
    client?.close();
    port.close();
    return;
  }
  const reply: WriterReply = { id: message.id, outcome: run(message.ops) };
  port.postMessage(reply);
});
