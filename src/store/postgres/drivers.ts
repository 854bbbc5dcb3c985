import { and, eq, sql } from 'drizzle-orm';
import type pg from 'pg';
import type { DriverRecord } from '../../domain/driver.ts';
import type { DriverStore } from '../store.ts';
import { inTransaction } from './pool.ts';
import type { PgDatabase } from './requests.ts';
import { driverStations, drivers } from './schema.ts';

/**
 * The built-in ACL on PostgreSQL. Driver ids sort in byte order (COLLATE "C"), as on SQLite, so
 * that an export reads the same from either database.
 */

const WITH_STATIONS = `
  SELECT d.driver_id AS "driverId", d.status, d.expires_at AS "expiresAt",
         d.all_stations AS "allStations",
         coalesce(array_agg(s.station_id ORDER BY s.station_id COLLATE "C")
                  FILTER (WHERE s.station_id IS NOT NULL), '{}') AS stations
  FROM drivers AS d LEFT JOIN driver_stations AS s ON s.driver_id = d.driver_id`;

const FIND = `${WITH_STATIONS} WHERE d.driver_id = $1 GROUP BY d.driver_id`;

const PAGE = `${WITH_STATIONS}
  WHERE d.driver_id COLLATE "C" > $1 GROUP BY d.driver_id ORDER BY d.driver_id COLLATE "C" LIMIT $2`;

/** A field left out of `changes` keeps its stored value: `$5`/`$6` say which were given. */
const UPSERT = `
  INSERT INTO drivers (driver_id, status, expires_at, all_stations, created_at, updated_at)
  VALUES ($1, $2, $3, coalesce($4, false), $7, $7)
  ON CONFLICT (driver_id) DO UPDATE SET
    status = excluded.status,
    expires_at = CASE WHEN $5 THEN excluded.expires_at ELSE drivers.expires_at END,
    all_stations = CASE WHEN $6 THEN excluded.all_stations ELSE drivers.all_stations END,
    updated_at = excluded.updated_at`;

const IMPORT_DRIVERS = `
  INSERT INTO drivers (driver_id, status, expires_at, all_stations, created_at, updated_at)
  SELECT driver_id, status, expires_at, all_stations, $5, $5
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::boolean[])
    AS t(driver_id, status, expires_at, all_stations)
  ON CONFLICT (driver_id) DO UPDATE SET
    status = excluded.status, expires_at = excluded.expires_at,
    all_stations = excluded.all_stations, updated_at = excluded.updated_at`;

const IMPORT_GRANTS = `
  INSERT INTO driver_stations (driver_id, station_id)
  SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`;

export function createDriverQueries(db: PgDatabase, pool: pg.Pool, now: () => number): DriverStore {
  async function find(driverId: string): Promise<DriverRecord | undefined> {
    const { rows } = await pool.query<DriverRecord>(FIND, [driverId]);
    return rows[0];
  }

  return {
    find,

    async upsert(driverId, changes) {
      await pool.query(UPSERT, [
        driverId,
        changes.status,
        changes.expiresAt ?? null,
        changes.allStations ?? null,
        changes.expiresAt !== undefined,
        changes.allStations !== undefined,
        now(),
      ]);
      return (await find(driverId)) as DriverRecord;
    },

    async remove(driverId) {
      const result = await db.delete(drivers).where(eq(drivers.driverId, driverId));
      return result.rowCount === 1;
    },

    async grant(driverId, stationId) {
      await pool.query(
        `INSERT INTO driver_stations (driver_id, station_id)
         SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM drivers WHERE driver_id = $1)
         ON CONFLICT DO NOTHING`,
        [driverId, stationId.toLowerCase()],
      );
      return find(driverId);
    },

    async revoke(driverId, stationId) {
      await db
        .delete(driverStations)
        .where(
          and(
            eq(driverStations.driverId, driverId),
            eq(driverStations.stationId, sql`${stationId.toLowerCase()}`),
          ),
        );
      return find(driverId);
    },

    async importBatch(records) {
      if (records.length === 0) return;
      const ids = records.map((r) => r.driverId);
      await inTransaction(pool, async (client) => {
        await client.query(IMPORT_DRIVERS, [
          ids,
          records.map((r) => r.status),
          records.map((r) => r.expiresAt),
          records.map((r) => r.allStations),
          now(),
        ]);
        await client.query('DELETE FROM driver_stations WHERE driver_id = ANY($1::text[])', [ids]);
        const grants = records.flatMap((r) =>
          r.stations.map((station) => [r.driverId, station.toLowerCase()] as const),
        );
        if (grants.length > 0) {
          await client.query(IMPORT_GRANTS, [grants.map((g) => g[0]), grants.map((g) => g[1])]);
        }
      });
    },

    async *exportAll() {
      let after = '';
      for (;;) {
        const { rows } = await pool.query<DriverRecord>(PAGE, [after, 1000]);
        yield* rows;
        const last = rows.at(-1);
        if (!last || rows.length < 1000) return;
        after = last.driverId;
      }
    },
  };
}
