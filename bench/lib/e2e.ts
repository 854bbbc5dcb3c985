import type { Admin } from './chargegate-admin.ts';
import { IdList } from './id-list.ts';
import type { Receiver } from './receiver.ts';
import type { CpuUse, E2eRecord } from './results.ts';
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
    const sent = await steadyLoad({ ...load, durationS: o.durationS });
    const cpu = meter.stop();

    const acked = sent.filter((entry) => entry.requestId !== null);
    const ids = idsOf(acked);
    const arrivals = await o.receiver.awaitArrivals(ids, o.graceS * 1000);

    const endToEnd = acked.flatMap((entry, i) => {
      const at = arrivals[i] ?? Number.NaN;
      return Number.isNaN(at) ? [] : [at - entry.sentMs];
    });
    const statusCodes: Record<string, number> = {};
    for (const entry of sent) {
      if (entry.status !== null) statusCodes[entry.status] = (statusCodes[entry.status] ?? 0) + 1;
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
    };
    const acknowledged = idsOf(preRoll);
    acknowledged.append(ids);
    return { record, acknowledged };
  } finally {
    o.receiver.verifyAll(false);
  }
}
