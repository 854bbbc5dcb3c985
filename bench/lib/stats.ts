/** Order statistics over small samples (rounds) and large ones (per-request latencies). */

export type Spread = { median: number; min: number; max: number };

const ascending = (values: readonly number[]) => [...values].sort((a, b) => a - b);

function nearestRank(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Nearest-rank percentile, `p` from 0 to 100; NaN for an empty sample. */
export function percentile(values: readonly number[], p: number): number {
  return nearestRank(ascending(values), p);
}

/** The median (mean of the middle two for an even count), NaN for an empty sample. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = ascending(values);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Largest value, NaN for an empty sample (no spread: samples may exceed the argument limit). */
export function maxOf(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => Math.max(a, b));
}

export function minOf(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => Math.min(a, b));
}

export function spread(values: readonly number[]): Spread {
  return { median: median(values), min: minOf(values), max: maxOf(values) };
}

export type LatencySummary = {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
};

export function latencySummary(values: readonly number[]): LatencySummary {
  const sorted = ascending(values);
  return {
    count: sorted.length,
    p50: nearestRank(sorted, 50),
    p90: nearestRank(sorted, 90),
    p99: nearestRank(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
  };
}
