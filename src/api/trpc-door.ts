import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { FastifyError, FastifyInstance } from 'fastify';
import { contextFrom, type Services } from './context.ts';
import { codeForStatus, httpErrorBody } from './http-errors.ts';
import { type AppRouter, appRouter } from './routers/app-router.ts';

/** The tRPC door at `prefix` (`/trpc`), for `createTRPCClient<AppRouter>`. */
export async function registerTrpcDoor(
  app: FastifyInstance,
  { services, prefix, bodyLimit }: { services: Services; prefix: string; bodyLimit: number },
) {
  await app.register(
    async (scope) => {
      // Errors raised before tRPC runs (body too large) still answer in tRPC's envelope.
      scope.setErrorHandler((error: FastifyError, request, reply) => {
        const { status, body } = httpErrorBody(error, bodyLimit, request.headers['content-type']);
        if (status >= 500) request.log.error({ err: error }, 'unhandled error');
        const code = codeForStatus(status);
        return reply.code(status).send({
          error: {
            message: body.message,
            code: TRPC_ERROR_CODES_BY_KEY[code],
            data: { code, httpStatus: status },
          },
        });
      });
      await scope.register(fastifyTRPCPlugin, {
        trpcOptions: {
          router: appRouter,
          maxBodySize: bodyLimit,
          createContext: ({ req, res }) =>
            contextFrom(services, req.headers, (name, value) => {
              res.header(name, value);
            }),
          onError: ({ error, req }) => {
            if (error.code === 'INTERNAL_SERVER_ERROR') {
              req.log.error({ err: error.cause ?? error }, 'procedure failed');
            }
          },
        } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
      });
    },
    { prefix },
  );
}
