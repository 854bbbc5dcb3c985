import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.ts';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * `GET /metrics` in the Prometheus text format, behind `Authorization: Bearer $METRICS_TOKEN`
 * when that is set. (Every answered request is recorded by `buildApp`'s response hook.)
 */
export function registerMetrics(
  app: FastifyInstance,
  metrics: Metrics,
  token: string | undefined,
): void {
  app.get('/metrics', { logLevel: 'warn' }, async (request, reply) => {
    if (token !== undefined) {
      const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (given === undefined || !timingSafeEqual(digest(given), digest(token))) {
        return reply
          .code(401)
          .send({ code: 'UNAUTHORIZED', message: 'send Authorization: Bearer <METRICS_TOKEN>' });
      }
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
