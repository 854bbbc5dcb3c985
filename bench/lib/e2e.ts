import type { Admin, RequestTimes } from './chargegate-admin.ts';
import { monotonicMs } from './clock.ts';
import { IdList } from './id-list.ts';
import type { Receiver } from './receiver.ts';
import type { CpuUse, E2eRecord, SlowRequest } from './results.ts';
import { latencySummary, maxOf, percentile } from './stats.ts';
import { type SentRequest, steadyLoad } from './steady-load.ts';

/**
 * End-to-end latency at a steady rate: POST written → signed callback received, per request,
 * correlated by the requestId in the acknowledgement. Every signature is verified in this phase.
 */

export type E2eOptions = {
  origin: string;
  path: string;
  rate: number;
  durationS: number;
  graceS: number;
  drainTimeoutMs: number;
  bodies: string[];
  receiver: Receiver;
  admin: Admin;
  meter: () => { stop(): CpuUse };
};

const PRE_ROLL_S = 2;
/** How many of the slowest callbacks a phase looks up and keeps. */
const SLOWEST_KEPT = 10;

/** Indexes of the `count` largest finite values, largest first (ties: the earlier first). */
export function slowestIndexes(values: readonly number[], count: number): number[] {
  return values
    .map((value, index) => ({ value, index }))
    .filter(({ value }) => Number.isFinite(value))
    .sort((a, b) => b.value - a.value || a.index - b.index)
    .slice(0, count)
    .map(({ index }) => index);
}

/**
 * A slow request's time split at chargegate's records. `wallOffsetMs` puts the bench's monotonic
 * times on chargegate's wall clock (Date.now() − monotonicMs(), read once for the phase).
 */
export function splitSlowRequest(
  entry: Pick<SentRequest, 'sentMs' | 'answeredMs'> & { requestId: string },
  endToEndMs: number,
  times: RequestTimes,
  { firstSentMs, wallOffsetMs }: { firstSentMs: number; wallOffsetMs: number },
): SlowRequest {
  const sentAt = entry.sentMs + wallOffsetMs;
  const attempt = times.firstAttempt;
  return {
    requestId: entry.requestId,
    atS: (entry.sentMs - firstSentMs) / 1000,
    endToEndMs,
    ackMs: entry.answeredMs === null ? null : entry.answeredMs - entry.sentMs,
    intakeMs: times.createdAt - sentAt,
    toAttemptMs: attempt ? attempt.startedAt - times.createdAt : null,
    attemptMs: attempt ? attempt.durationMs : null,
  };
}

const idsOf = (sent: SentRequest[]) =>
  IdList.of(sent.flatMap((entry) => (entry.requestId === null ? [] : [entry.requestId])));

export async function measureEndToEnd(
  o: E2eOptions,
): Promise<{ record: E2eRecord; acknowledged: IdList }> {
  o.receiver.verifyAll(true);
  try {
    const load = { origin: o.origin, path: o.path, rate: o.rate, bodies: o.bodies };
    // Opens the client's connections and settles the server at this rate; not recorded.
    const preRoll = await steadyLoad({ ...load, durationS: PRE_ROLL_S });
    await o.admin.waitForDrain(o.drainTimeoutMs);

    const meter = o.meter();
    const wallOffsetMs = Date.now() - monotonicMs();
    const sent = await steadyLoad({ ...load, durationS: o.durationS });
    const cpu = meter.stop();

    const acked = sent.filter(
      (entry): entry is SentRequest & { requestId: string } => entry.requestId !== null,
    );
    const ids = idsOf(acked);
    const arrivals = await o.receiver.awaitArrivals(ids, o.graceS * 1000);

    // Per acknowledged request, NaN where its callback did not arrive within the grace period.
    const latencies = acked.map((entry, i) => (arrivals[i] ?? Number.NaN) - entry.sentMs);
    const endToEnd = latencies.filter((latency) => !Number.isNaN(latency));
    const statusCodes: Record<string, number> = {};
    for (const entry of sent) {
      if (entry.status !== null) statusCodes[entry.status] = (statusCodes[entry.status] ?? 0) + 1;
    }
    const firstSentMs = sent[0]?.sentMs ?? 0;
    // Looked up after the phase, so the lookups do not load the server it measured.
    const slowest: SlowRequest[] = [];
    for (const index of slowestIndexes(latencies, SLOWEST_KEPT)) {
      const entry = acked[index] as (typeof acked)[number];
      const times = await o.admin.timesOf(entry.requestId);
      slowest.push(
        splitSlowRequest(entry, latencies[index] as number, times, { firstSentMs, wallOffsetMs }),
      );
    }
    const lags = sent.map((entry) => entry.sentMs - entry.dueMs);
    const failed = sent.filter((entry) => entry.error !== null);
    const record: E2eRecord = {
      rate: o.rate,
      durationS: o.durationS,
      sent: sent.length,
      acknowledged: acked.length,
      non2xx: sent.filter(
        (entry) => entry.status !== null && (entry.status < 200 || entry.status >= 300),
      ).length,
      statusCodes,
      errors: failed.length,
      firstError: failed[0]?.error ?? null,
      latencyMs: latencySummary(endToEnd),
      ackLatencyMs: latencySummary(
        sent.flatMap((entry) =>
          entry.answeredMs === null ? [] : [entry.answeredMs - entry.sentMs],
        ),
      ),
      lost: arrivals.filter((at) => Number.isNaN(at)).length,
      graceS: o.graceS,
      senderLagMs: { p99: percentile(lags, 99), max: maxOf(lags) },
      cpu,
      slowest,
    };
    const acknowledged = idsOf(preRoll);
    acknowledged.append(ids);
    return { record, acknowledged };
  } finally {
    o.receiver.verifyAll(false);
  }
}
