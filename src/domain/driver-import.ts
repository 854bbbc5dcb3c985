import { z } from 'zod';
import { driverIdSchema, uuidField } from './charging-session-request.ts';
import { allStationsSchema, driverStatusSchema, expiresAtSchema } from './driver.ts';

/**
 * One row of a bulk driver import (and of an export, which must import again unchanged).
 * A row replaces the driver wholesale, so a field left out takes the value a new driver gets:
 * `expiresAt` null, `allStations` false, no stations.
 */

export const DRIVER_IMPORT_FIELDS = [
  'driverId',
  'status',
  'expiresAt',
  'allStations',
  'stations',
] as const;

export type DriverImportField = (typeof DRIVER_IMPORT_FIELDS)[number];

export const driverImportRowSchema = z
  .strictObject(
    {
      driverId: driverIdSchema,
      status: driverStatusSchema,
      expiresAt: expiresAtSchema.default(null),
      allStations: allStationsSchema.default(false),
      stations: z
        .array(uuidField('stationId'), { error: 'stations must be a list of station UUIDs' })
        .default([]),
    },
    {
      error: (issue) => {
        if (issue.code === 'unrecognized_keys') {
          const known = DRIVER_IMPORT_FIELDS.join(', ');
          return `unknown field ${issue.keys.map((key) => JSON.stringify(key)).join(', ')} (the fields are ${known})`;
        }
        if (issue.code === 'invalid_type') return 'a row must be an object';
        return undefined;
      },
    },
  )
  .transform((row) => ({
    ...row,
    expiresAt: row.expiresAt === null ? null : Date.parse(row.expiresAt),
  }));

/** A row as it is written in a file. */
export type DriverImportRow = z.input<typeof driverImportRowSchema>;

/** A validated row, ready to store: `expiresAt` in epoch milliseconds. */
export type DriverImportRecord = z.output<typeof driverImportRowSchema>;

/** The file form of a stored driver; `driverImportRowSchema` reads it back to the same record. */
export function driverImportRow(record: DriverImportRecord): Required<DriverImportRow> {
  return {
    driverId: record.driverId,
    status: record.status,
    expiresAt: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString(),
    allStations: record.allStations,
    stations: record.stations,
  };
}
