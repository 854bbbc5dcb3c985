import type { DriverQueries } from '../db/drivers.ts';
import type { Intake } from '../db/request-intake.ts';
import type { RequestQueries } from '../db/requests.ts';
import type { StatsQueries } from '../db/stats.ts';

/** What the procedures may use. Built once per app; tests build it from a fresh database. */
export type Services = {
  intake: Intake;
  requests: RequestQueries;
  drivers: DriverQueries;
  stats: StatsQueries;
  now: () => number;
  /** The bearer token for admin procedures; undefined = admin procedures answer 401. */
  adminToken: string | undefined;
  /** Tells the worker that callbacks became due now (after a redeliver or recover). */
  wakeWorker: () => void;
};

/** One call's context, the same for the tRPC and the REST door. */
export type Context = {
  services: Services;
  /** The `Authorization` header, if any. */
  authorization: string | undefined;
  /** The `Idempotency-Key` header, if any. */
  idempotencyKey: string | undefined;
  /** Sets a response header (e.g. `Location`). */
  setHeader: (name: string, value: string) => void;
};

type HeaderValue = string | string[] | undefined;

const firstValue = (value: HeaderValue) => (Array.isArray(value) ? value[0] : value);

/** Builds a context from request headers; `setHeader` writes to the response. */
export function contextFrom(
  services: Services,
  headers: Record<string, HeaderValue>,
  setHeader: Context['setHeader'],
): Context {
  return {
    services,
    authorization: firstValue(headers.authorization),
    idempotencyKey: firstValue(headers['idempotency-key']),
    setHeader,
  };
}
