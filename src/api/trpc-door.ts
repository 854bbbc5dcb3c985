import type { TRPCError } from '@trpc/server';
import { resolveResponse } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { contextFrom, type Services } from './context.ts';
import { httpErrorHandler } from './http-errors.ts';
import { bodyText } from './json-body.ts';
import { appRouter } from './routers/app-router.ts';

/**
 * The tRPC door at `prefix` (`/trpc`), for `createTRPCClient<AppRouter>`. A Fastify route hands
 * each call to tRPC's own `resolveResponse`, which implements the whole wire protocol (batching,
 * streaming, errors). Compared with the stock adapter it skips what a buffered JSON API does not
 * need: the body reaches tRPC as the string Fastify already read, with no stream and no abort
 * wiring, and the answer is sent as one string rather than piped from a web stream.
 */

type Headers = FastifyRequest['headers'];

function webHeaders(headers: Headers): [string, string][] {
  const entries: [string, string][] = [];
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string') entries.push([name, value]);
    else if (Array.isArray(value)) for (const item of value) entries.push([name, item]);
  }
  return entries;
}

export async function registerTrpcDoor(
  app: FastifyInstance,
  { services, prefix, bodyLimit }: { services: Services; prefix: string; bodyLimit: number },
) {
  await app.register(
    async (scope) => {
      // tRPC parses bodies itself, so every body reaches it as the text that arrived.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
        try {
          done(null, bodyText(body as Buffer));
        } catch (error) {
          done(error as Error, undefined);
        }
      });

      // Errors raised before tRPC runs (body too large) still answer in tRPC's envelope.
      scope.setErrorHandler(
        httpErrorHandler(bodyLimit, (status, { code, message }) => ({
          error: {
            message,
            code: TRPC_ERROR_CODES_BY_KEY[code],
            data: { code, httpStatus: status },
          },
        })),
      );

      const handler = async (request: FastifyRequest, reply: FastifyReply) => {
        const { path } = request.params as { path: string };
        const body = request.body as string | undefined;
        const response = await resolveResponse({
          router: appRouter,
          path,
          error: null,
          // Only the path and query matter to tRPC; a fixed origin keeps a bad Host header harmless.
          req: new Request(`http://localhost${request.url}`, {
            method: request.method,
            headers: webHeaders(request.headers),
            body: request.method === 'GET' || request.method === 'HEAD' ? undefined : (body ?? ''),
          }),
          createContext: async () =>
            contextFrom(services, request.headers, (name, value) => {
              reply.header(name, value);
            }),
          onError: ({ error }: { error: TRPCError }) => {
            if (error.code === 'INTERNAL_SERVER_ERROR') {
              request.log.error({ err: error.cause ?? error }, 'procedure failed');
            }
          },
        });
        reply.code(response.status);
        response.headers.forEach((value, name) => {
          reply.header(name, value);
        });
        return reply.send(await response.text());
      };

      scope.route({ method: ['GET', 'POST'], url: '/:path', handler });
    },
    { prefix },
  );
}
