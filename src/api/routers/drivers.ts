import { z } from 'zod';
import {
  driverKey,
  driverStationKey,
  driverViewSchema,
  upsertDriverInput,
} from '../../domain/driver.ts';
import { notFound } from '../../domain/errors.ts';
import { adminProcedure, router } from '../trpc.ts';
import { driverView } from '../views.ts';
import { errorResponses } from './openapi-meta.ts';

const TAG = 'Driver ACL (admin)';

export const driversRouter = router({
  upsert: adminProcedure
    .meta({
      openapi: {
        method: 'PUT',
        path: '/drivers/{driverId}',
        tags: [TAG],
        summary: 'Create or update a driver',
        description:
          'A field left out keeps its stored value (or its default, for a new driver: expiresAt null, allStations false). Grants are not touched.',
        errorResponses: errorResponses(400, 401, 408, 413, 415, 500),
      },
    })
    .input(upsertDriverInput)
    .output(driverViewSchema)
    .mutation(async ({ ctx, input }) => {
      const { driverId, status, expiresAt, allStations } = input;
      const record = await ctx.services.drivers.upsert(driverId, {
        status,
        expiresAt:
          expiresAt === undefined ? undefined : expiresAt === null ? null : Date.parse(expiresAt),
        allStations,
      });
      return driverView(record);
    }),

  get: adminProcedure
    .meta({
      openapi: {
        method: 'GET',
        path: '/drivers/{driverId}',
        tags: [TAG],
        summary: 'Read a driver and its granted stations',
        errorResponses: errorResponses(400, 401, 404, 500),
      },
    })
    .input(driverKey)
    .output(driverViewSchema)
    .query(async ({ ctx, input }) => {
      const record = await ctx.services.drivers.find(input.driverId);
      if (!record) throw notFound('driver', input.driverId);
      return driverView(record);
    }),

  remove: adminProcedure
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/drivers/{driverId}',
        tags: [TAG],
        summary: 'Remove a driver and its grants',
        errorResponses: errorResponses(400, 401, 404, 500),
      },
    })
    .input(driverKey)
    .output(z.object({ driverId: z.string(), deleted: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      if (!(await ctx.services.drivers.remove(input.driverId))) {
        throw notFound('driver', input.driverId);
      }
      return { driverId: input.driverId, deleted: true as const };
    }),

  grantStation: adminProcedure
    .meta({
      openapi: {
        method: 'PUT',
        path: '/drivers/{driverId}/stations/{stationId}',
        tags: [TAG],
        summary: 'Let the driver charge at a station',
        errorResponses: errorResponses(400, 401, 404, 500),
      },
    })
    .input(driverStationKey)
    .output(driverViewSchema)
    .mutation(async ({ ctx, input }) => {
      const record = await ctx.services.drivers.grant(input.driverId, input.stationId);
      if (!record) throw notFound('driver', input.driverId);
      return driverView(record);
    }),

  revokeStation: adminProcedure
    .meta({
      openapi: {
        method: 'DELETE',
        path: '/drivers/{driverId}/stations/{stationId}',
        tags: [TAG],
        summary: 'Stop the driver charging at a station (no-op when not granted)',
        errorResponses: errorResponses(400, 401, 404, 500),
      },
    })
    .input(driverStationKey)
    .output(driverViewSchema)
    .mutation(async ({ ctx, input }) => {
      const record = await ctx.services.drivers.revoke(input.driverId, input.stationId);
      if (!record) throw notFound('driver', input.driverId);
      return driverView(record);
    }),
});
