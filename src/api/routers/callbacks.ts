import { z } from 'zod';
import { adminProcedure, router } from '../trpc.ts';
import { errorResponses } from './openapi-meta.ts';

const instant = (field: string) =>
  z.iso
    .datetime({
      offset: true,
      error: `${field} must be an ISO 8601 date-time such as 2026-01-01T00:00:00Z`,
    })
    .meta({ format: 'date-time' });

export const callbacksRouter = router({
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
