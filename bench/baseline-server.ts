import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Pool } from 'undici';
import {
  ACKNOWLEDGED,
  type CreateRequestInput,
  createRequestInput,
} from '../src/domain/charging-session-request.ts';
import { signWebhook } from '../src/worker/sign.ts';

/**
 * The baseline: bare Fastify answering chargegate's create route with the same zod validation and
 * the same 200 body and Location header, and nothing else: no database, no logging, no hooks, no
 * tRPC. It bounds what chargegate could reach on this machine for the same HTTP and validation
 * work; everything chargegate does beyond that shows as the gap to it.
 *
 * With WEBHOOK_SECRET set it is the fire-and-forget peer: after acknowledging, it POSTs the signed
 * callback (Standard Webhooks headers) at once, once, over a bounded keep-alive pool per origin:
 * no storage, no retry, no decision beyond "allowed". That is what the simplest public
 * implementations of this service do, and the ceiling for "acknowledged and called back".
 */

const BODY_LIMIT = 16 * 1024;
/** Callback connections per origin, as chargegate's WORKER_CONCURRENCY bounds its own. */
const CALLBACK_CONNECTIONS = 64;

const secret = process.env.WEBHOOK_SECRET;
const signingKey = secret ? Buffer.from(secret.replace(/^whsec_/, ''), 'base64') : undefined;
const pools = new Map<string, Pool>();
let callbackFailures = 0;

function sendCallback(key: Buffer, requestId: string, input: CreateRequestInput): void {
  const url = new URL(input.callbackUrl);
  let pool = pools.get(url.origin);
  if (!pool) {
    pool = new Pool(url.origin, { connections: CALLBACK_CONNECTIONS, pipelining: 1 });
    pools.set(url.origin, pool);
  }
  const body = JSON.stringify({
    requestId,
    stationId: input.stationId,
    driverId: input.driverId,
    status: 'allowed',
    reason: 'driver allowed',
    decidedAt: new Date().toISOString(),
  });
  const webhookId = `msg_${requestId}`;
  const timestamp = Math.floor(Date.now() / 1000);
  pool
    .request({
      method: 'POST',
      path: url.pathname + url.search,
      headers: {
        'content-type': 'application/json',
        'webhook-id': webhookId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(key, webhookId, timestamp, body),
      },
      body,
    })
    .then(
      (response) => response.body.dump(),
      () => {
        callbackFailures++;
      },
    );
}

const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT });

app.post('/api/charging-session-requests', async (request, reply) => {
  const parsed = createRequestInput.safeParse(request.body);
  if (!parsed.success) {
    return reply.code(400).send({
      code: 'BAD_REQUEST',
      message: 'invalid request',
      issues: parsed.error.issues.map(({ path, message }) => ({ path, message })),
    });
  }
  const requestId = randomUUID();
  reply.header('location', `/api/charging-session-requests/${requestId}`);
  if (signingKey) sendCallback(signingKey, requestId, parsed.data);
  return { ...ACKNOWLEDGED, requestId };
});

const stop = () => {
  if (callbackFailures > 0) process.stderr.write(`callbacks that failed: ${callbackFailures}\n`);
  void app.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

const port = Number(process.env.PORT ?? '0');
const url = await app.listen({ port, host: '127.0.0.1' });
// The same line Fastify's logger prints for chargegate, so one parser finds both ports.
process.stdout.write(
  `${JSON.stringify({ pid: process.pid, msg: `Server listening at ${url}` })}\n`,
);
