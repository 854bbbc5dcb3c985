import { and, asc, eq, sql } from 'drizzle-orm';
import type { DriverChanges, DriverRecord } from '../../domain/driver.ts';
import type { Database } from './database.ts';
import { driverStations, drivers } from './schema.ts';

/** Queries on `drivers` and `driver_stations`, the built-in ACL. */

/**
 * These transactions read, then write. Begun IMMEDIATE they wait for the write lock (the writer
 * thread commits all the time under load) before reading; begun DEFERRED their read could be
 * overtaken by one of its commits, and the write would then fail at once with SQLITE_BUSY.
 */
const IMMEDIATE = { behavior: 'immediate' } as const;

export function createDriverQueries(db: Database) {
  const p = sql.placeholder;
  const aclDriver = db
    .select({
      status: drivers.status,
      expiresAt: drivers.expiresAt,
      allStations: drivers.allStations,
    })
    .from(drivers)
    .where(eq(drivers.driverId, p('driverId')))
    .prepare();
  const stationsOf = db
    .select({ stationId: driverStations.stationId })
    .from(driverStations)
    .where(eq(driverStations.driverId, p('driverId')))
    .orderBy(asc(driverStations.stationId))
    .prepare();
  const upsert = db
    .insert(drivers)
    .values({
      driverId: p('driverId'),
      status: p('status'),
      expiresAt: p('expiresAt'),
      allStations: p('allStations'),
      createdAt: p('now'),
      updatedAt: p('now'),
    })
    .onConflictDoUpdate({
      target: drivers.driverId,
      set: {
        status: sql`excluded.status`,
        expiresAt: sql`excluded.expires_at`,
        allStations: sql`excluded.all_stations`,
        updatedAt: sql`excluded.updated_at`,
      },
    })
    .prepare();
  const deleteGrants = db
    .delete(driverStations)
    .where(eq(driverStations.driverId, p('driverId')))
    .prepare();
  const insertGrant = db
    .insert(driverStations)
    .values({ driverId: p('driverId'), stationId: p('stationId') })
    .onConflictDoNothing()
    .prepare();

  function find(driverId: string): DriverRecord | undefined {
    const row = aclDriver.get({ driverId });
    if (!row) return undefined;
    const stations = stationsOf.all({ driverId }).map((grant) => grant.stationId);
    return { driverId, ...row, stations };
  }

  return {
    find,

    upsert(driverId: string, changes: DriverChanges, now: number): DriverRecord {
      return db.transaction(() => {
        const current = aclDriver.get({ driverId });
        upsert.run({
          driverId,
          status: changes.status,
          expiresAt:
            changes.expiresAt !== undefined ? changes.expiresAt : (current?.expiresAt ?? null),
          allStations: (changes.allStations ?? current?.allStations ?? false) ? 1 : 0,
          now,
        });
        return find(driverId) as DriverRecord;
      }, IMMEDIATE);
    },

    /**
     * Replaces drivers wholesale, grants included, in one transaction: the bulk import.
     */
    replaceMany(records: readonly DriverRecord[], now: number): void {
      db.transaction(() => {
        for (const record of records) {
          upsert.run({
            driverId: record.driverId,
            status: record.status,
            expiresAt: record.expiresAt,
            allStations: record.allStations ? 1 : 0,
            now,
          });
          deleteGrants.run({ driverId: record.driverId });
          for (const stationId of record.stations) {
            insertGrant.run({ driverId: record.driverId, stationId: stationId.toLowerCase() });
          }
        }
      }, IMMEDIATE);
    },

    /** Removes a driver and its grants. Answers whether it existed. */
    remove(driverId: string): boolean {
      return db.delete(drivers).where(eq(drivers.driverId, driverId)).run().changes === 1;
    },

    /** Grants a station. Answers the driver, or undefined when it is unknown. */
    grant(driverId: string, stationId: string): DriverRecord | undefined {
      return db.transaction(() => {
        if (!aclDriver.get({ driverId })) return undefined;
        insertGrant.run({ driverId, stationId: stationId.toLowerCase() });
        return find(driverId);
      }, IMMEDIATE);
    },

    /** Revokes a station (a no-op when it was not granted). Answers the driver, if known. */
    revoke(driverId: string, stationId: string): DriverRecord | undefined {
      return db.transaction(() => {
        db.delete(driverStations)
          .where(
            and(
              eq(driverStations.driverId, driverId),
              eq(driverStations.stationId, stationId.toLowerCase()),
            ),
          )
          .run();
        return find(driverId);
      }, IMMEDIATE);
    },

    /** Every driver with its grants, in driver id order, a page at a time. */
    *iterate(pageSize = 1000): Generator<DriverRecord> {
      let after = '';
      for (;;) {
        const page = db
          .select()
          .from(drivers)
          .where(sql`${drivers.driverId} > ${after}`)
          .orderBy(asc(drivers.driverId))
          .limit(pageSize)
          .all();
        for (const row of page) {
          yield {
            driverId: row.driverId,
            status: row.status,
            expiresAt: row.expiresAt,
            allStations: row.allStations,
            stations: stationsOf.all({ driverId: row.driverId }).map((grant) => grant.stationId),
          };
        }
        const last = page.at(-1);
        if (!last || page.length < pageSize) return;
        after = last.driverId;
      }
    },
  };
}

export type DriverQueries = ReturnType<typeof createDriverQueries>;
