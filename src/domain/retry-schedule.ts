/**
 * The callback retry schedule: parsing `CALLBACK_RETRY_SCHEDULE`, jitter and `Retry-After`.
 * Pure functions; randomness and the clock come in as arguments.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** The HTTP date form servers send, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** The share of a scheduled delay that jitter may add or remove. */
export const RETRY_JITTER = 0.2;

export class InvalidDurationError extends Error {}

/** Parses one duration such as `500ms`, `5s`, `30m` or `2h` into milliseconds. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) {
    throw new InvalidDurationError(
      `"${text}" is not a duration; use a number followed by ms, s, m or h (e.g. 5s, 30m)`,
    );
  }
  const [, amount, unit] = match as unknown as [string, string, keyof typeof UNIT_MS];
  return Math.round(Number(amount) * UNIT_MS[unit]);
}

/**
 * Parses a comma-separated schedule (`5s,5m,30m`) into delays in milliseconds.
 * `none` means no retries: the first attempt is the only one.
 */
export function parseRetrySchedule(text: string): number[] {
  if (text.trim() === 'none') return [];
  return text.split(',').map(parseDuration);
}

/**
 * The delay before retry number `retryIndex` (0 = the first retry), with ±20 % jitter.
 * `random` returns a number in [0, 1).
 */
export function scheduledDelay(
  schedule: readonly number[],
  retryIndex: number,
  random: () => number,
): number | undefined {
  const base = schedule[retryIndex];
  if (base === undefined) return undefined;
  const factor = 1 - RETRY_JITTER + 2 * RETRY_JITTER * random();
  return Math.round(base * factor);
}

/**
 * Reads a `Retry-After` header (delta-seconds or an HTTP date) as milliseconds from `now`.
 * Answers undefined when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  if (!IMF_FIXDATE.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Formats milliseconds for people, in the units of the schedule: `800ms`, `4.9s`, `5m`, `2.5h`. */
export function formatDuration(ms: number): string {
  const [amount, unit] =
    ms >= UNIT_MS.h
      ? [ms / UNIT_MS.h, 'h']
      : ms >= UNIT_MS.m
        ? [ms / UNIT_MS.m, 'm']
        : ms >= UNIT_MS.s
          ? [ms / UNIT_MS.s, 's']
          : [ms, 'ms'];
  return `${Number(amount.toFixed(unit === 'ms' ? 0 : 1))}${unit}`;
}
