import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  parseDuration,
  parseRetryAfter,
  parseRetrySchedule,
  scheduledDelay,
} from '../../src/domain/retry-schedule.ts';

describe('parseRetrySchedule', () => {
  it('reads the default schedule', () => {
    expect(parseRetrySchedule('5s,5m,30m,2h,5h,10h,10h')).toEqual([
      5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
  });

  it.each([
    ['250ms', 250],
    ['1.5s', 1_500],
    [' 2m ', 120_000],
    ['0s', 0],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('reads "none" as no retries', () => {
    expect(parseRetrySchedule('none')).toEqual([]);
  });

  it.each(['5', '5d', 's', '-5s', '5s,,5m', '5 s', 'five seconds', ''])(
    'refuses %j, saying how to write one',
    (text) => {
      expect(() => parseRetrySchedule(text)).toThrow(/use a number followed by ms, s, m or h/);
    },
  );
});

describe('scheduledDelay', () => {
  const schedule = [1_000, 60_000];

  it('stays within ±20 % of the scheduled delay, reaching both ends', () => {
    expect(scheduledDelay(schedule, 0, () => 0)).toBe(800);
    expect(scheduledDelay(schedule, 0, () => 0.999_999)).toBe(1_200);
    expect(scheduledDelay(schedule, 1, () => 0.5)).toBe(60_000);
  });

  it('spreads delays over the whole band', () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const delays = Array.from(
      { length: 2_000 },
      () => scheduledDelay(schedule, 1, random) as number,
    );
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(48_000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(72_000);
    expect(Math.min(...delays)).toBeLessThan(49_000);
    expect(Math.max(...delays)).toBeGreaterThan(71_000);
  });

  it('answers undefined past the last retry', () => {
    expect(scheduledDelay(schedule, 2, () => 0.5)).toBeUndefined();
    expect(scheduledDelay([], 0, () => 0.5)).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [5_000, '5s'],
    [300_000, '5m'],
    [7_200_000, '2h'],
    [1_234, '1.2s'],
    [4_940, '4.9s'],
    [999, '999ms'],
    [9_000_000, '2.5h'],
    [0, '0ms'],
  ])('%i ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
