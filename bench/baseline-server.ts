import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { ACKNOWLEDGED, createRequestInput } from '../src/domain/charging-session-request.ts';

/**
 * The baseline: bare Fastify answering chargegate's create route with the same zod validation and
 * the same 200 body and Location header, and nothing else: no database, no logging, no hooks, no
 * tRPC. It bounds what chargegate could reach on this machine for the same HTTP and validation
 * work; everything chargegate does beyond that shows as the gap to it.
 */

const BODY_LIMIT = 16 * 1024;

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
  return { ...ACKNOWLEDGED, requestId };
});

const stop = () => {
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
