import type { FastifyInstance } from 'fastify';

export type Readiness = () => Promise<Record<string, boolean>>;

/** `GET /healthz`: the process is alive. `GET /readyz`: it can take and deliver requests. */
export function registerHealth(app: FastifyInstance, readiness: Readiness): void {
  app.get('/healthz', { logLevel: 'warn' }, () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const checks = await readiness().catch(() => ({ database: false }));
    const failing = Object.entries(checks)
      .filter(([, ok]) => !ok)
      .map(([name]) => name);
    if (failing.length === 0) return { status: 'ready', checks };
    return reply
      .code(503)
      .send({ code: 'SERVICE_UNAVAILABLE', message: `not ready: ${failing.join(', ')}` });
  });
}
