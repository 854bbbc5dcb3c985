import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import type { CreateOutcome } from '../store.ts';
import { type ConnectionOptions, openConnection } from './connection.ts';
import { fileIdentity, type OpenedFile } from './file-identity.ts';
import {
  type BatchOutcome,
  type BatchRunner,
  createBatchRunner,
  serializeError,
  type WriteOp,
} from './writes.ts';

/**
 * The writer thread: owns the write connection, so that commits and their fsync wait here and
 * not on an event loop. It loads better-sqlite3 and `writes.ts`, nothing more.
 *
 * Batches arrive from the main thread, and from any port attached to it (another thread's
 * queue). Whatever has arrived by the time the thread is free commits in one transaction: while
 * one transaction commits, the batches sent meanwhile queue up and share the next commit (group
 * commit), and no sender ever waits for the thread to be free before sending.
 *
 * Messages in: `{ id, ops }` (a batch), `{ attach: port }` (on the parent port only),
 * `{ close: true }`. Messages out, per sender and transaction: `{ replies, committed, created }`;
 * to the parent, `{ committed }` alone after a transaction that held none of its batches, so that
 * it sees every commit; to an attached port, `{ committed, created }` alone after a transaction
 * that stored new requests and held none of its batches, so that its worker wakes for them.
 */

export type WriterData = ConnectionOptions & { opened: OpenedFile | undefined };
export type WriterMessage = { id: number; ops: WriteOp[] };
export type WriterReply = {
  replies?: { id: number; outcome: BatchOutcome }[];
  /** Writes in the transaction that committed, 0 when it failed. */
  committed: number;
  /**
   * New requests among them. Every attached port hears of them, so the callback worker's thread
   * wakes for new work straight from here, not through the main thread.
   */
  created?: number;
};

const parent = parentPort;
if (!parent) throw new Error('writer-thread.ts runs as a worker thread');
const data = workerData as WriterData;
// The file the main thread opened; none to compare with for a database it did not open as a file.
const file = data.opened === undefined ? undefined : fileIdentity(data.path, data.opened);

// Opened on the first batch, and again on the next one if it could not be: a batch it cannot
// run fails with the error SQLite gave (a file that cannot be opened is SQLITE_CANTOPEN).
let runBatches: BatchRunner | undefined;
let client: BetterSqlite3.Database | undefined;

function batchRunner(): BatchRunner {
  if (runBatches) return runBatches;
  client = openConnection(data);
  runBatches = createBatchRunner(client, () => file?.problem());
  return runBatches;
}

type Received = { from: MessagePort; id: number; ops: WriteOp[] };
let received: Received[] = [];
let scheduled = false;

function receive(from: MessagePort, { id, ops }: WriterMessage): void {
  received.push({ from, id, ops });
  if (scheduled) return;
  scheduled = true;
  // After the messages of this turn: every batch that arrived while the last transaction ran.
  setImmediate(commitReceived);
}

function commitReceived(): void {
  scheduled = false;
  const batches = received;
  received = [];
  let outcomes: BatchOutcome[];
  try {
    outcomes = batchRunner()(batches.map((batch) => batch.ops));
  } catch (error) {
    const failed: BatchOutcome = { ok: false, error: serializeError(error) };
    outcomes = batches.map(() => failed);
  }
  const committed = outcomes[0]?.ok ? batches.reduce((sum, batch) => sum + batch.ops.length, 0) : 0;
  const created = committed > 0 ? createdIn(batches, outcomes) : 0;
  const replies = new Map<MessagePort, NonNullable<WriterReply['replies']>>();
  batches.forEach(({ from, id }, index) => {
    const reply = { id, outcome: outcomes[index] as BatchOutcome };
    const list = replies.get(from);
    if (list) list.push(reply);
    else replies.set(from, [reply]);
  });
  for (const [to, list] of replies)
    to.postMessage({ replies: list, committed, created } satisfies WriterReply);
  if (!replies.has(parent as MessagePort) && committed > 0) {
    parent?.postMessage({ committed } satisfies WriterReply);
  }
  if (created > 0) {
    for (const port of attached) {
      if (!replies.has(port)) port.postMessage({ committed, created } satisfies WriterReply);
    }
  }
}

/** How many of the committed writes stored a new request (not an idempotent replay). */
function createdIn(batches: readonly Received[], outcomes: readonly BatchOutcome[]): number {
  let created = 0;
  for (let index = 0; index < batches.length; index++) {
    const outcome = outcomes[index];
    if (!outcome?.ok) continue;
    const { ops } = batches[index] as Received;
    for (let at = 0; at < ops.length; at++) {
      const result = outcome.results[at];
      if (ops[at]?.kind === 'create' && result?.ok && (result.value as CreateOutcome).created) {
        created++;
      }
    }
  }
  return created;
}

const attached = new Set<MessagePort>();

parent.on('message', (message: WriterMessage | { attach: MessagePort } | { close: true }) => {
  if ('attach' in message) {
    const port = message.attach;
    attached.add(port);
    port.on('message', (batch: WriterMessage) => receive(port, batch));
    port.on('close', () => attached.delete(port));
    return;
  }
  if ('close' in message) {
    // Sent after every batch of the main thread has been answered; what an attached port sent
    // before its own close has been received, and commits first.
    if (scheduled) commitReceived();
    client?.close();
    for (const port of attached) port.close();
    parent.close();
    return;
  }
  receive(parent as MessagePort, message);
});
