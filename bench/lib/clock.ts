/**
 * Milliseconds on CLOCK_MONOTONIC, which every process on the machine shares (libuv's hrtime reads
 * it). A send time taken in the bench process and an arrival time taken in the receiver process
 * can therefore be subtracted; wall-clock time could step between the two readings.
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
