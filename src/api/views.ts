import type { RequestView } from '../domain/charging-session-request.ts';
import { decisionView } from '../domain/decision-view.ts';
import type { DriverRecord, DriverView } from '../domain/driver.ts';
import type { RequestRecord } from '../domain/request-record.ts';

/** Stored rows as the API shows them. */

export const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function requestView(row: RequestRecord): RequestView {
  return {
    requestId: row.id,
    stationId: row.stationId,
    driverId: row.driverId,
    callbackUrl: row.callbackUrl,
    createdAt: iso(row.createdAt),
    decision: decisionView(row),
    callback: {
      state: row.callbackState,
      attempts: row.attempts,
      lastAttemptAt: isoOrNull(row.lastAttemptAt),
      lastResponseStatus: row.lastResponseStatus,
      lastError: row.lastError,
      nextAttemptAt: isoOrNull(row.nextAttemptAt),
    },
  };
}

export function driverView(record: DriverRecord): DriverView {
  return {
    driverId: record.driverId,
    status: record.status,
    expiresAt: isoOrNull(record.expiresAt),
    allStations: record.allStations,
    stations: record.stations,
  };
}
