/**
 * Driver ids identify people; logs at info and above show only their ends.
 */

const DRIVER_PATH = /(\/drivers\/)([^/?#]+)/;

/** `ABCDEFGHIJKLMNOPQRSTUV` → `ABCD…UV`. */
export function maskDriverId(driverId: string): string {
  return driverId.length <= 6 ? '…' : `${driverId.slice(0, 4)}…${driverId.slice(-2)}`;
}

/** Masks the driver id segment of a URL path such as `/api/drivers/{driverId}/stations/…`. */
export function maskDriverIds(url: string): string {
  return url.replace(
    DRIVER_PATH,
    (_match, prefix: string, id: string) => prefix + maskDriverId(id),
  );
}
