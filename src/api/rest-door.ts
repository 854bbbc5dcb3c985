import { TRPCError, type TRPCProcedureType } from '@trpc/server';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { OpenApiMeta } from 'trpc-to-openapi';
import { z } from 'zod';
import { contextFrom, type Services } from './context.ts';
import { errorBody, httpStatusOf } from './errors.ts';
import { appRouter, callProcedure } from './routers/app-router.ts';

/**
 * The REST door: one native Fastify route per procedure that has `meta.openapi`, at the path the
 * OpenAPI document gives it. Each route calls the procedure through tRPC, so input and output
 * validation, middleware and errors are exactly those of the tRPC door.
 */

type OpenApi = NonNullable<OpenApiMeta['openapi']>;

export type RestRoute = {
  procedurePath: string;
  type: TRPCProcedureType;
  method: OpenApi['method'];
  url: string;
  /** The query parameters it takes: its input's fields that are not in the path, if no body. */
  query: readonly string[];
};

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

type ProcedureDef = { meta?: OpenApiMeta; inputs: unknown[]; type: TRPCProcedureType };

function queryParameters(def: ProcedureDef, url: string, acceptsBody: boolean): string[] {
  const input = def.inputs[0];
  if (acceptsBody || !(input instanceof z.ZodObject)) return [];
  const inPath = new Set([...url.matchAll(/:(\w+)/g)].map((match) => match[1]));
  return Object.keys(input.shape).filter((field) => !inPath.has(field));
}

/** The REST routes the router declares, e.g. `POST /api/charging-session-requests`. */
export function restRoutes(prefix: string): RestRoute[] {
  return Object.entries(appRouter._def.procedures).flatMap(([procedurePath, procedure]) => {
    const def = (procedure as unknown as { _def: ProcedureDef })._def;
    const openapi = def.meta?.openapi;
    if (!openapi || openapi.enabled === false) return [];
    const url = prefix + openapi.path.replace(/\{(\w+)\}/g, ':$1');
    const query = queryParameters(def, url, BODY_METHODS.has(openapi.method));
    return [{ procedurePath, type: def.type, method: openapi.method, url, query }];
  });
}

/**
 * A misspelt query parameter would otherwise be ignored (`?callbackstate=failed` listing
 * everything), so one the route does not take is refused, as an unknown body field is.
 */
function refuseUnknownQuery(request: FastifyRequest, known: readonly string[]): void {
  const unknown = Object.keys(request.query as object).filter((name) => !known.includes(name));
  if (unknown.length === 0) return;
  const takes = known.length === 0 ? 'this path takes none' : `this path takes ${known.join(', ')}`;
  // A ZodError cause (an Error, so tRPC keeps it) gives the body the message and issues of any
  // invalid input.
  const cause = new z.ZodRealError(
    unknown.map((name) => ({
      code: 'custom' as const,
      path: [name],
      message: `unknown query parameter ${JSON.stringify(name)} (${takes})`,
      input: undefined,
    })),
  );
  throw new TRPCError({ code: 'BAD_REQUEST', message: 'unknown query parameter', cause });
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
          refuseUnknownQuery(request, route.query);
          const input = inputOf(request, acceptsBody);
          const output = await callProcedure(
            route.procedurePath,
            route.type,
            ctx,
            async () => input,
          );
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
