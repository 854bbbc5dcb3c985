import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { registerConsole } from './api/console-route.ts';
import type { Services } from './api/context.ts';
import { registerDocs } from './api/docs.ts';
import type { ErrorBody } from './api/errors.ts';
import { type Readiness, registerHealth } from './api/health.ts';
import {
  clientErrorResponse,
  httpErrorHandler,
  registerHttpErrorHandlers,
} from './api/http-errors.ts';
import { registerJsonBody } from './api/json-body.ts';
import { registerMetrics } from './api/metrics-route.ts';
import { openApiDocument } from './api/openapi.ts';
import { registerRestDoor } from './api/rest-door.ts';
import { registerTrpcDoor } from './api/trpc-door.ts';
import { type HttpLimits, limitConnections, serverOptions } from './http-limits.ts';
import { maskDriverIds } from './log-redaction.ts';
import type { Metrics } from './metrics.ts';

/** Request bodies above this many bytes answer 413. */
export const BODY_LIMIT = 16 * 1024;

export type AppDeps = {
  services: Services;
  log: Logger;
  readiness: Readiness;
  version: string;
  metrics: Metrics;
  /** When set, `GET /metrics` needs `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  limits: HttpLimits;
  /** Called for every incoming request (load monitoring). */
  onRequest?: () => void;
  /** The built operator console (default `dist/console`); when missing, `/console` answers 503. */
  consoleRoot?: string;
};

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** Whether a response on this socket has begun: raw bytes written now would corrupt it. */
const responseStarted = (socket: Socket) =>
  (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage?.headersSent ===
  true;

/** Builds the HTTP service as an unstarted Fastify instance; `main.ts` listens. */
export async function buildApp({
  services,
  log,
  readiness,
  version,
  metrics,
  metricsToken,
  limits,
  onRequest,
  consoleRoot,
}: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    ...serverOptions(limits),
    // One line per request, written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Answered below instead, in the API's error shape.
    return503OnClosing: false,
    // A URL that cannot be decoded answers in the API's error shape too.
    frameworkErrors: (error, request, reply) =>
      void httpErrorHandler(BODY_LIMIT)(error, request, reply as FastifyReply),
    clientErrorHandler: (error, socket) => {
      const response = clientErrorResponse(error);
      if (response && socket.writable && !responseStarted(socket)) socket.end(response);
      else socket.destroy();
    },
  });
  limitConnections(app.server, limits, app.log);

  // JSON is the only body the API takes; anything else answers 415.
  app.removeContentTypeParser('text/plain');
  registerJsonBody(app);

  // A request that arrives once closing has begun (on a connection still answering another)
  // is refused, so that its client retries elsewhere rather than wait for a server going away.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    if (closing) {
      reply
        .code(503)
        .header('connection', 'close')
        .header('retry-after', '1')
        .send({
          code: 'SERVICE_UNAVAILABLE',
          message: 'the server is shutting down; retry the request',
        } satisfies ErrorBody);
      return;
    }
    onRequest?.();
    done();
  });
  // One line per request and the HTTP metrics, in one callback hook: no promise per request, and
  // the route's options are read once.
  app.addHook('onResponse', (request, reply, done) => {
    const { url, logLevel } = request.routeOptions;
    const status = reply.statusCode;
    metrics.observeHttp(request.method, url ?? 'unmatched', status, reply.elapsedTime / 1000);
    if (logLevel !== 'warn' || status >= 400) {
      request.log.info(
        {
          method: request.method,
          url: maskDriverIds(request.url.split('?')[0] ?? ''),
          statusCode: status,
          durationMs: Math.round(reply.elapsedTime * 100) / 100,
        },
        'request',
      );
    }
    done();
  });

  registerHttpErrorHandlers(app, BODY_LIMIT);
  registerMetrics(app, metrics, metricsToken);
  registerHealth(app, readiness);
  registerRestDoor(app, { services, prefix: '/api', bodyLimit: BODY_LIMIT });
  await registerTrpcDoor(app, { services, prefix: '/trpc', bodyLimit: BODY_LIMIT });
  await registerDocs(app, openApiDocument(version));
  await registerConsole(app, consoleRoot);
  return app;
}
