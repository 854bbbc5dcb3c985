import type { CallbackState } from './charging-session-request.ts';

/** What the operator overview shows, as the store reads it. */

export const MINUTE_MS = 60_000;

/** Per-minute counts keyed by the start of the minute (epoch ms); minutes without any are absent. */
export type MinuteCounts = Map<number, number>;

export type StatsSnapshot = {
  callbacks: Record<CallbackState, number>;
  oldestPendingCreatedAt: number | null;
  acknowledgedPerMinute: MinuteCounts;
  deliveredPerMinute: MinuteCounts;
};
