import { TRPCError } from '@trpc/server';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { contextFrom, type Services } from './context.ts';
import { errorBody, httpStatusOf } from './errors.ts';
import { appRouter, createCaller } from './routers/app-router.ts';

/**
 * The REST door: one native Fastify route per procedure that has `meta.openapi`, at the path the
 * OpenAPI document gives it. Each route calls the procedure through the router's caller, so input
 * and output validation, middleware and errors are exactly those of the tRPC door.
 */

type OpenApi = NonNullable<OpenApiMeta['openapi']>;
type Call = (input: unknown) => Promise<unknown>;
type Caller = ReturnType<typeof createCaller>;

export type RestRoute = { procedurePath: string; method: OpenApi['method']; url: string };

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** The REST routes the router declares, e.g. `POST /api/charging-session-requests`. */
export function restRoutes(prefix: string): RestRoute[] {
  return Object.entries(appRouter._def.procedures).flatMap(([procedurePath, procedure]) => {
    const openapi = (procedure as unknown as { _def: { meta?: OpenApiMeta } })._def.meta?.openapi;
    if (!openapi || openapi.enabled === false) return [];
    const url = prefix + openapi.path.replace(/\{(\w+)\}/g, ':$1');
    return [{ procedurePath, method: openapi.method, url }];
  });
}

function resolve(caller: Caller, procedurePath: string): Call {
  let target: unknown = caller;
  for (const segment of procedurePath.split('.'))
    target = (target as Record<string, unknown>)[segment];
  return target as Call;
}

function inputOf(request: FastifyRequest, acceptsBody: boolean): Record<string, unknown> {
  const params = request.params as Record<string, string>;
  const source = acceptsBody ? request.body : request.query;
  if (source === undefined) return { ...params };
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: 'the request body must be a JSON object' });
  }
  return { ...(source as Record<string, unknown>), ...params };
}

export type RestDoorOptions = { services: Services; prefix: string; bodyLimit: number };

export function registerRestDoor(
  app: FastifyInstance,
  { services, prefix, bodyLimit }: RestDoorOptions,
) {
  for (const route of restRoutes(prefix)) {
    const acceptsBody = BODY_METHODS.has(route.method);
    app.route({
      method: route.method as HTTPMethods,
      url: route.url,
      bodyLimit,
      async handler(request: FastifyRequest, reply: FastifyReply) {
        const ctx = contextFrom(services, request.headers, (name, value) => {
          reply.header(name, value);
        });
        try {
          const output = await resolve(
            createCaller(ctx),
            route.procedurePath,
          )(inputOf(request, acceptsBody));
          return reply.code(200).send(output);
        } catch (cause) {
          const error =
            cause instanceof TRPCError
              ? cause
              : new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause });
          const status = httpStatusOf(error);
          if (status >= 500) request.log.error({ err: error.cause ?? error }, 'procedure failed');
          return reply.code(status).send(errorBody(error));
        }
      },
    });
  }
}
