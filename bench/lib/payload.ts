import { randomUUID } from 'node:crypto';
import type { CreateRequestInput } from '../../src/domain/charging-session-request.ts';
import { isUuid } from './id-list.ts';

/**
 * The request bodies every target gets: one driver (granted all stations, so every decision is
 * `allowed`) at a rotating set of stations, the callback pointing at the loopback receiver. Every
 * body has the same shape and length, whichever target it goes to.
 */

export const DRIVER_ID = 'bench-driver-0000000000000001';

export function requestBodies(callbackUrl: string, count = 256): string[] {
  return Array.from({ length: count }, () =>
    JSON.stringify({
      stationId: randomUUID(),
      driverId: DRIVER_ID,
      callbackUrl,
    } satisfies CreateRequestInput),
  );
}

const REQUEST_ID = '"requestId":"';
const UUID_LENGTH = 36;

/**
 * The requestId in an acknowledgement, REST (`{…,"requestId":"…"}`) or tRPC
 * (`{"result":{"data":{…,"requestId":"…"}}}`). A string search rather than JSON.parse keeps the
 * load generator's cost per response small, and the same for every target.
 */
export function acknowledgedId(body: string): string | undefined {
  const at = body.indexOf(REQUEST_ID);
  if (at === -1 || !body.includes('"status":"acknowledged"')) return undefined;
  const start = at + REQUEST_ID.length;
  const id = body.slice(start, start + UUID_LENGTH);
  return body[start + UUID_LENGTH] === '"' && isUuid(id) ? id : undefined;
}
