import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { monotonicMs } from './lib/clock.ts';
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

type Arrival = { atMs: number; webhookId: string };

/**
 * First arrivals by requestId, spread over many maps. A Map rehashes every entry at once when it
 * grows: at 1,048,576 entries (a full run's receiver holds more) that took 114 ms on the
 * development VM, a stall that showed as the e2e phase's worst latency though chargegate had
 * sent on time. Maps of a few thousand entries each grow in well under a millisecond.
 */
const SHARDS = 256;
const shards = Array.from({ length: SHARDS }, () => new Map<string, Arrival>());
function shardOf(requestId: string): Map<string, Arrival> {
  // FNV-1a over the id: spreads ids of any shape, UUIDs and time-ordered ones alike.
  let hash = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    hash = Math.imul(hash ^ requestId.charCodeAt(i), 0x01000193);
  }
  return shards[(hash >>> 0) % SHARDS] as Map<string, Arrival>;
}
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
    webhookId === undefined ||
    headers['webhook-timestamp'] === undefined ||
    headers['webhook-signature'] === undefined
  ) {
    summary.malformed++;
    return;
  }
  const status = String(payload.status);
  summary.statuses[status] = (summary.statuses[status] ?? 0) + 1;

  const arrivals = shardOf(payload.requestId);
  const first = arrivals.get(payload.requestId);
  if (first) {
    summary.duplicates++;
    if (first.webhookId !== webhookId) summary.webhookIdChanged++;
  } else {
    arrivals.set(payload.requestId, { atMs, webhookId });
    summary.distinct++;
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
        arrivals: message.ids.map((id) => shardOf(id).get(id)?.atMs ?? null),
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
