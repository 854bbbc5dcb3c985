import { z } from 'zod';
import { MINUTE_MS } from '../../domain/stats.ts';
import { adminProcedure, router } from '../trpc.ts';
import { iso } from '../views.ts';
import { errorResponses } from './openapi-meta.ts';

const instant = (field: string) =>
  z.iso
    .datetime({
      offset: true,
      error: `${field} must be an ISO 8601 date-time such as 2026-01-01T00:00:00Z`,
    })
    .meta({ format: 'date-time' });

/** The overview covers this many whole minutes, the current one included. */
const WINDOW_MINUTES = 60;

const count = z.number().int().min(0);

const statsOutput = z
  .object({
    at: z.string().meta({ format: 'date-time', description: 'When these numbers were read' }),
    callbacks: z.object({ pending: count, delivered: count, failed: count }),
    oldestPending: z
      .object({
        createdAt: z.string().meta({ format: 'date-time' }),
        ageSeconds: z.number().min(0),
      })
      .nullable()
      .meta({ description: 'The oldest request whose callback is pending; null when none is' }),
    perMinute: z
      .array(
        z.object({
          minute: z.string().meta({ format: 'date-time', description: 'Start of the minute' }),
          acknowledged: count.meta({ description: 'Requests acknowledged in this minute' }),
          delivered: count.meta({ description: 'Callbacks delivered in this minute' }),
        }),
      )
      .meta({
        description: `The last ${WINDOW_MINUTES} minutes, oldest first, every minute present`,
      }),
  })
  .meta({ id: 'CallbackStats' });

export const callbacksRouter = router({
  stats: adminProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/callbacks/stats',
        tags: ['Callbacks (admin)'],
        summary: 'Callbacks by state and activity per minute over the last hour',
        description:
          'What the operator console shows: pending, delivered and failed callbacks, the age of the oldest pending one, and requests acknowledged and callbacks delivered in each of the last 60 minutes.',
        errorResponses: errorResponses(400, 401, 500),
      },
    })
    .input(z.strictObject({}))
    .output(statsOutput)
    .query(async ({ ctx }) => {
      const now = ctx.services.now();
      const firstMinute =
        Math.floor(now / MINUTE_MS) * MINUTE_MS - (WINDOW_MINUTES - 1) * MINUTE_MS;
      const snapshot = await ctx.services.requests.stats(firstMinute);
      const oldest = snapshot.oldestPendingCreatedAt;
      return {
        at: iso(now),
        callbacks: snapshot.callbacks,
        oldestPending:
          oldest === null
            ? null
            : { createdAt: iso(oldest), ageSeconds: Math.max(0, (now - oldest) / 1000) },
        perMinute: Array.from({ length: WINDOW_MINUTES }, (_, index) => {
          const minute = firstMinute + index * MINUTE_MS;
          return {
            minute: iso(minute),
            acknowledged: snapshot.acknowledgedPerMinute.get(minute) ?? 0,
            delivered: snapshot.deliveredPerMinute.get(minute) ?? 0,
          };
        }),
      };
    }),

  recover: adminProcedure
    .meta({
      openapi: {
        method: 'POST',
        path: '/callbacks/recover',
        tags: ['Callbacks (admin)'],
        summary: 'Re-queue every failed callback of requests created in a window',
        description:
          'For use after a receiver outage: each failed callback of a request created at or after `since` (and before `until`, default now) is sent again with a fresh retry schedule.',
        errorResponses: errorResponses(400, 401, 408, 413, 415, 500),
      },
    })
    .input(z.strictObject({ since: instant('since'), until: instant('until').optional() }))
    .output(z.object({ requeued: z.number().int() }))
    .mutation(async ({ ctx, input }) => {
      const until = input.until === undefined ? ctx.services.now() + 1 : Date.parse(input.until);
      const requeued = await ctx.services.requests.requeueFailed(Date.parse(input.since), until);
      if (requeued > 0) ctx.services.wakeWorker();
      return { requeued };
    }),
});
