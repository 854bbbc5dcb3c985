import {
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  TRPCError,
  transformTRPCResponse,
} from '@trpc/server';
import { getHTTPStatusCode, resolveResponse } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Context, contextFrom, type Services } from './context.ts';
import { httpErrorHandler } from './http-errors.ts';
import { bodyText } from './json-body.ts';
import { appRouter, callProcedure } from './routers/app-router.ts';

/**
 * The tRPC door at `prefix` (`/trpc`), for `createTRPCClient<AppRouter>`.
 *
 * The calls a client makes most, one mutation POSTed as JSON (`httpLink`), take a direct path: the
 * procedure is called through tRPC (`callTRPCProcedure`) and the answer built with tRPC's own
 * `transformTRPCResponse` and `getTRPCErrorShape`, so body, status and headers are those of tRPC's
 * handler, without the Fetch `Request`, `Headers`, `AbortController`s and `Response` it builds
 * per call. Every other call (queries, batches, streams, other content types, unknown paths) goes
 * to tRPC's `resolveResponse`, which implements the whole wire protocol; it gets the body as the
 * string Fastify already read, and its answer is sent as one string.
 */

type Headers = FastifyRequest['headers'];

const RESPONSE_HEADERS = { vary: 'trpc-accept, accept', 'content-type': 'application/json' };

function webHeaders(headers: Headers): [string, string][] {
  const entries: [string, string][] = [];
  for (const name in headers) {
    const value = headers[name];
    if (typeof value === 'string') entries.push([name, value]);
    else if (Array.isArray(value)) for (const item of value) entries.push([name, item]);
  }
  return entries;
}

/** `application/json`, compared as tRPC compares it (case-insensitive, parameters ignored). */
function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}

const MUTATIONS = new Set(
  Object.entries(appRouter._def.procedures).flatMap(([path, procedure]) =>
    (procedure as unknown as { _def: { type: string } })._def.type === 'mutation' ? [path] : [],
  ),
);

/**
 * Whether tRPC's handler would treat this request as one non-batched mutation call with a JSON
 * body and nothing else: no query string (batching, method override, connection params), no
 * streaming `accept`, a path that names a mutation as it is (nothing URL-encoded).
 */
function isSingleMutation(request: FastifyRequest, path: string): boolean {
  const { headers } = request;
  return (
    request.method === 'POST' &&
    !request.url.includes('?') &&
    MUTATIONS.has(path) &&
    isJson(headers['content-type']) &&
    headers['trpc-accept'] === undefined &&
    !headers.accept?.includes('application/jsonl')
  );
}

type OnError = (error: TRPCError) => void;

async function callMutation(
  path: string,
  body: string,
  ctx: Context,
  onError: OnError,
): Promise<{ status: number; text: string }> {
  const config = appRouter._def._config;
  let input: unknown;
  try {
    const data = await callProcedure(path, 'mutation', ctx, async () => {
      // As tRPC's handler reads a non-batched body: empty means no input, and a body that is not
      // JSON is the client's error.
      try {
        input = body ? JSON.parse(body) : undefined;
      } catch (cause) {
        throw new TRPCError({ code: 'BAD_REQUEST', message: (cause as Error).message, cause });
      }
      return input;
    });
    return {
      status: 200,
      text: JSON.stringify(transformTRPCResponse(config, { result: { data } })),
    };
  } catch (cause) {
    const error = getTRPCErrorFromUnknown(cause);
    onError(error);
    const response = {
      error: getTRPCErrorShape({ config, ctx, error, input, path, type: 'mutation' }),
    };
    return {
      status: getHTTPStatusCode(response, [error]),
      text: JSON.stringify(transformTRPCResponse(config, response)),
    };
  }
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
        const ctx = contextFrom(services, request.headers, (name, value) => {
          reply.header(name, value);
        });
        const onError: OnError = (error) => {
          if (error.code === 'INTERNAL_SERVER_ERROR') {
            request.log.error({ err: error.cause ?? error }, 'procedure failed');
          }
        };

        if (isSingleMutation(request, path)) {
          const { status, text } = await callMutation(path, body ?? '', ctx, onError);
          return reply.code(status).headers(RESPONSE_HEADERS).send(text);
        }

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
          createContext: async () => ctx,
          onError: ({ error }) => onError(error),
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
