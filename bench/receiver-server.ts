import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { monotonicMs } from './lib/clock.ts';
import { ID_WORDS, packId } from './lib/id-list.ts';
import type { FromReceiver, ReceiverSummary, ToReceiver } from './lib/receiver-protocol.ts';

/**
 * The loopback callback receiver, run as a child of the bench process so that the load generator
 * and this server do not share an event loop: answers every callback 204 at once and records,
 * per requestId, when it first arrived. Signatures are checked with `standardwebhooks` (pure-JS
 * HMAC, so not free): every callback when told `verify all`, else one in VERIFY_EVERY.
 */

const secret = process.env.WEBHOOK_SECRET;
if (!secret) throw new Error('WEBHOOK_SECRET is required');
const webhook = new Webhook(secret);
const verifyEvery = Number(process.env.VERIFY_EVERY ?? '25');

/**
 * First arrivals by requestId: when each came (monotonic ms) and a hash of its `webhook-id`, in
 * typed arrays keyed by the UUID's four words, so that the million and more a full run records
 * are no objects for the garbage collector to walk (see `lib/id-list.ts`: as strings and objects
 * they made a heap whose major collections took both cores). Open addressing, spread over many
 * tables: each doubles on its own, a few thousand entries at a time, so no growth ever stalls the
 * receiver the way one Map of a million entries did when it rehashed (114 ms on the development VM,
 * which showed as the e2e phase's worst latency though chargegate had sent on time).
 */
const SHARDS = 256;
type Table = { keys: Uint32Array; atMs: Float64Array; tags: Uint32Array; size: number };
const newTable = (capacity: number): Table => ({
  keys: new Uint32Array(capacity * ID_WORDS),
  atMs: new Float64Array(capacity), // 0 = empty: monotonic time is never 0 while the machine runs
  tags: new Uint32Array(capacity),
  size: 0,
});
const tables = Array.from({ length: SHARDS }, () => newTable(1024));

function hashOf(words: Uint32Array, at: number): number {
  let hash = Math.imul((words[at] as number) ^ 0x9e3779b9, 0x85ebca6b);
  hash = Math.imul(hash ^ (words[at + 1] as number) ^ (hash >>> 13), 0xc2b2ae35);
  hash = Math.imul(hash ^ (words[at + 2] as number) ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (words[at + 3] as number) ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** The slot of the id at `words[at…]` in `table`: where it is, or the empty one it would take. */
function slotOf(table: Table, hash: number, words: Uint32Array, at: number): number {
  const mask = table.atMs.length - 1;
  for (let slot = (hash >>> 8) & mask; ; slot = (slot + 1) & mask) {
    if (table.atMs[slot] === 0) return slot;
    const key = slot * ID_WORDS;
    if (
      table.keys[key] === words[at] &&
      table.keys[key + 1] === words[at + 1] &&
      table.keys[key + 2] === words[at + 2] &&
      table.keys[key + 3] === words[at + 3]
    ) {
      return slot;
    }
  }
}

function put(
  table: Table,
  slot: number,
  words: Uint32Array,
  at: number,
  atMs: number,
  tag: number,
): void {
  table.keys.set(words.subarray(at, at + ID_WORDS), slot * ID_WORDS);
  table.atMs[slot] = atMs;
  table.tags[slot] = tag;
  table.size++;
}

/** Doubles a table past half full. */
function grown(table: Table): Table {
  const bigger = newTable(table.atMs.length * 2);
  for (let slot = 0; slot < table.atMs.length; slot++) {
    if (table.atMs[slot] === 0) continue;
    const at = slot * ID_WORDS;
    const to = slotOf(bigger, hashOf(table.keys, at), table.keys, at);
    put(bigger, to, table.keys, at, table.atMs[slot] as number, table.tags[slot] as number);
  }
  return bigger;
}

/** When the id at `words[at…]` first arrived (monotonic ms), NaN if it never did. */
function firstArrivalOf(words: Uint32Array, at: number): number {
  const hash = hashOf(words, at);
  const table = tables[hash % SHARDS] as Table;
  const atMs = table.atMs[slotOf(table, hash, words, at)] as number;
  return atMs === 0 ? Number.NaN : atMs;
}

/**
 * Records a first arrival and answers undefined; for an id that had arrived before, records
 * nothing and answers the first arrival's tag.
 */
function recordArrival(
  words: Uint32Array,
  at: number,
  atMs: number,
  tag: number,
): number | undefined {
  const hash = hashOf(words, at);
  let table = tables[hash % SHARDS] as Table;
  let slot = slotOf(table, hash, words, at);
  if (table.atMs[slot] !== 0) return table.tags[slot];
  if ((table.size + 1) * 2 > table.atMs.length) {
    table = grown(table);
    tables[hash % SHARDS] = table;
    slot = slotOf(table, hash, words, at);
  }
  put(table, slot, words, at, atMs, tag);
  return undefined;
}

/**
 * FNV-1a of a `webhook-id`: a duplicate whose hash differs changed its id (a change that keeps
 * the same 32-bit hash, one in about four billion, would go unseen).
 */
function tagOf(webhookId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < webhookId.length; i++) {
    hash = Math.imul(hash ^ webhookId.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}

const idWords = new Uint32Array(ID_WORDS);
const summary: ReceiverSummary = {
  callbacks: 0,
  distinct: 0,
  duplicates: 0,
  malformed: 0,
  webhookIdChanged: 0,
  statuses: {},
  verified: 0,
  verifyFailures: 0,
  firstVerifyFailure: null,
};
let verifyAll = false;

function record(atMs: number, body: string, headers: Record<string, string | undefined>): void {
  summary.callbacks++;
  const webhookId = headers['webhook-id'];
  let payload: { requestId?: unknown; status?: unknown };
  try {
    payload = JSON.parse(body) as typeof payload;
  } catch {
    summary.malformed++;
    return;
  }
  if (
    typeof payload.requestId !== 'string' ||
    !packId(payload.requestId, idWords, 0) ||
    webhookId === undefined ||
    headers['webhook-timestamp'] === undefined ||
    headers['webhook-signature'] === undefined
  ) {
    summary.malformed++;
    return;
  }
  const status = String(payload.status);
  summary.statuses[status] = (summary.statuses[status] ?? 0) + 1;

  const tag = tagOf(webhookId);
  const firstTag = recordArrival(idWords, 0, atMs, tag);
  if (firstTag === undefined) summary.distinct++;
  else {
    summary.duplicates++;
    if (firstTag !== tag) summary.webhookIdChanged++;
  }

  if (verifyAll || summary.callbacks % verifyEvery === 0) {
    try {
      webhook.verify(body, headers as Record<string, string>);
      summary.verified++;
    } catch (error) {
      summary.verifyFailures++;
      summary.firstVerifyFailure ??= `${payload.requestId}: ${(error as Error).message}`;
    }
  }
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const atMs = monotonicMs();
    response.writeHead(204).end();
    record(
      atMs,
      Buffer.concat(chunks).toString('utf8'),
      request.headers as Record<string, string | undefined>,
    );
  });
});

/** Each id's first arrival (monotonic ms), NaN for one that never came. */
function arrivalsOf(ids: Uint32Array): Float64Array {
  const arrivals = new Float64Array(ids.length / ID_WORDS);
  for (let i = 0; i < arrivals.length; i++) {
    arrivals[i] = firstArrivalOf(ids, i * ID_WORDS);
  }
  return arrivals;
}

const send = (message: FromReceiver) => process.send?.(message);

process.on('message', (message: ToReceiver) => {
  switch (message.type) {
    case 'verify':
      verifyAll = message.all;
      break;
    case 'query':
      send({
        type: 'query',
        seq: message.seq,
        arrivals: arrivalsOf(message.ids),
        summary,
      });
      break;
    case 'summary':
      send({ type: 'summary', seq: message.seq, summary });
      break;
  }
});
// The parent going away (even by SIGKILL) closes the channel: nothing is left listening.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  send({ type: 'ready', url: `http://127.0.0.1:${port}/chargegate/decisions` });
});
