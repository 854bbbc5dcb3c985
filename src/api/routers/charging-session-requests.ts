import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { ATTEMPT_OUTCOMES } from '../../domain/attempt.ts';
import {
  ACKNOWLEDGED,
  acknowledgementSchema,
  CALLBACK_STATES,
  createRequestInput,
  requestIdInput,
  requestViewSchema,
} from '../../domain/charging-session-request.ts';
import { DomainError, notFound } from '../../domain/errors.ts';
import {
  idempotencyHeaders,
  replayedRequestId,
  requestFingerprint,
} from '../../domain/idempotency.ts';
import type { Context } from '../context.ts';
import { adminProcedure, publicProcedure, router } from '../trpc.ts';
import { iso, requestView } from '../views.ts';
import { errorResponses } from './openapi-meta.ts';

const TAG = 'Charging session requests';

function idempotencyKeyOf(ctx: Context): string | undefined {
  if (ctx.idempotencyKey === undefined) return undefined;
  const parsed = idempotencyHeaders.safeParse({ 'idempotency-key': ctx.idempotencyKey });
  if (!parsed.success) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: 'invalid Idempotency-Key',
      cause: parsed.error,
    });
  }
  return parsed.data['idempotency-key'];
}

const listInput = z.object({
  callbackState: z
    .enum(CALLBACK_STATES, { error: 'callbackState must be pending, delivered or failed' })
    .optional(),
  limit: z.coerce
    .number({ error: 'limit must be a whole number from 1 to 100' })
    .int('limit must be a whole number from 1 to 100')
    .min(1, 'limit must be a whole number from 1 to 100')
    .max(100, 'limit must be a whole number from 1 to 100')
    .default(20),
  cursor: z.string().max(200).optional().meta({ description: 'nextCursor of the previous page' }),
});

const listOutput = z.object({
  data: z.array(requestViewSchema),
  nextCursor: z.string().nullable().meta({ description: 'null on the last page' }),
});

const attemptView = z.object({
  attempt: z.number().int(),
  startedAt: z.string().meta({ format: 'date-time' }),
  durationMs: z.number().int(),
  outcome: z.enum(ATTEMPT_OUTCOMES),
  responseStatus: z.number().int().nullable(),
  error: z.string().nullable(),
  responseBody: z.string().nullable().meta({ description: 'The first 1 KiB of the response body' }),
});

function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown[];
    if (typeof createdAt === 'number' && typeof id === 'string') return { createdAt, id };
  } catch {}
  throw new DomainError('INVALID_CURSOR', 'cursor is not a nextCursor this API returned');
}

export const chargingSessionRequestsRouter = router({
  create: publicProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/charging-session-requests',
        tags: [TAG],
        summary: 'Submit a charging session request',
        description:
          'Validates and durably stores the request, then answers at once. The decision is POSTed to callbackUrl later, signed with Standard Webhooks headers.',
        protect: false,
        requestHeaders: idempotencyHeaders,
        responseHeaders: z.object({
          location: z.string().meta({ description: 'The path of the stored request' }),
        }),
        successDescription: 'Committed to the database',
        errorResponses: errorResponses(400, 408, 413, 415, 422, 500, 503),
      },
    })
    .input(createRequestInput)
    .output(acknowledgementSchema)
    .mutation(async ({ ctx, input }) => {
      const key = idempotencyKeyOf(ctx);
      const fingerprint = key === undefined ? undefined : requestFingerprint(input);
      const outcome = await ctx.services.requests.create(
        input,
        key === undefined || fingerprint === undefined ? undefined : { key, fingerprint },
      );
      const requestId = outcome.created
        ? outcome.requestId
        : replayedRequestId(key as string, outcome, fingerprint as string);
      if (outcome.created) ctx.services.onCreated();
      ctx.setHeader('location', `/api/charging-session-requests/${requestId}`);
      if (!outcome.created) ctx.setHeader('idempotent-replayed', 'true');
      return { ...ACKNOWLEDGED, requestId };
    }),

  get: publicProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/charging-session-requests/{requestId}',
        tags: [TAG],
        summary: 'Read a request, its decision and its callback state',
        protect: false,
        errorResponses: errorResponses(400, 404, 500),
      },
    })
    .input(requestIdInput)
    .output(requestViewSchema)
    .query(async ({ ctx, input }) => {
      const row = await ctx.services.requests.find(input.requestId.toLowerCase());
      if (!row) throw notFound('request', input.requestId);
      return requestView(row);
    }),

  list: adminProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/charging-session-requests',
        tags: [TAG],
        summary: 'List requests, newest first (admin)',
        errorResponses: errorResponses(400, 401, 500),
      },
    })
    .input(listInput)
    .output(listOutput)
    .query(async ({ ctx, input }) => {
      const cursor = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
      const rows = await ctx.services.requests.list(input.callbackState, input.limit + 1, cursor);
      const page = rows.slice(0, input.limit);
      const last = page.at(-1);
      return {
        data: page.map(requestView),
        nextCursor:
          rows.length > input.limit && last ? encodeCursor(last.createdAt, last.id) : null,
      };
    }),

  attempts: adminProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/charging-session-requests/{requestId}/attempts',
        tags: [TAG],
        summary: 'Every callback attempt of a request (admin)',
        errorResponses: errorResponses(400, 401, 404, 500),
      },
    })
    .input(requestIdInput)
    .output(z.object({ requestId: z.string(), data: z.array(attemptView) }))
    .query(async ({ ctx, input }) => {
      const id = input.requestId.toLowerCase();
      if (!(await ctx.services.requests.find(id))) throw notFound('request', input.requestId);
      const data = (await ctx.services.requests.attempts(id)).map((attempt) => ({
        attempt: attempt.attempt,
        startedAt: iso(attempt.startedAt),
        durationMs: attempt.durationMs,
        outcome: attempt.outcome,
        responseStatus: attempt.responseStatus,
        error: attempt.error,
        responseBody: attempt.responseBody,
      }));
      return { requestId: id, data };
    }),

  redeliver: adminProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/charging-session-requests/{requestId}/redeliver',
        tags: [TAG],
        summary: 'Send the stored decision again now, with a fresh retry schedule (admin)',
        errorResponses: errorResponses(400, 401, 404, 500),
      },
    })
    .input(requestIdInput)
    .output(requestViewSchema)
    .mutation(async ({ ctx, input }) => {
      const row = await ctx.services.requests.requeue(input.requestId.toLowerCase());
      if (!row) throw notFound('request', input.requestId);
      ctx.services.wakeWorker();
      return requestView(row);
    }),
});
