import { z } from 'zod';
import { driverIdSchema, uuidField } from './charging-session-request.ts';
import type { AclDriver } from './decision.ts';

/** The built-in ACL's driver records, as the admin procedures see them. */

export const DRIVER_STATUSES = ['active', 'blocked'] as const;

export const driverStatusSchema = z.enum(DRIVER_STATUSES, {
  error: (issue) =>
    issue.input === undefined ? 'status is required' : 'status must be "active" or "blocked"',
});

export const expiresAtSchema = z.iso
  .datetime({
    offset: true,
    error: 'expiresAt must be an ISO 8601 date-time such as 2027-01-01T00:00:00Z, or null',
  })
  .nullable()
  .meta({ description: 'After this instant the driver may no longer charge; null = never.' });

export const allStationsSchema = z
  .boolean({ error: 'allStations must be true or false' })
  .meta({ description: 'true = the driver may charge at every station.' });

export const driverKey = z.object({ driverId: driverIdSchema });
export const driverStationKey = z.object({
  driverId: driverIdSchema,
  stationId: uuidField('stationId'),
});

export const upsertDriverInput = z.strictObject({
  driverId: driverIdSchema,
  status: driverStatusSchema,
  expiresAt: expiresAtSchema.optional(),
  allStations: allStationsSchema.optional(),
});

export const driverViewSchema = z
  .object({
    driverId: z.string(),
    status: z.enum(DRIVER_STATUSES),
    expiresAt: z.string().meta({ format: 'date-time' }).nullable(),
    allStations: z.boolean(),
    stations: z.array(z.string().meta({ format: 'uuid' })).meta({
      description: 'Stations granted one by one (lower-case), whatever allStations says.',
    }),
  })
  .meta({ id: 'Driver' });

export type DriverView = z.infer<typeof driverViewSchema>;

/** A driver as stored, with the stations granted to it (lower-case). */
export type DriverRecord = AclDriver & { driverId: string; stations: string[] };

/** Fields of an upsert; an omitted field keeps its stored value (or its default for a new driver). */
export type DriverChanges = {
  status: AclDriver['status'];
  expiresAt?: number | null;
  allStations?: boolean;
};
