import type { Drain } from './chargegate-admin.ts';
import { monotonicMs } from './clock.ts';
import { IdList } from './id-list.ts';
import type { Receiver } from './receiver.ts';
import { hammer } from './throughput.ts';

/**
 * Sustained end to end: closed-loop saturating load for a while, then its drain, and what counts
 * is acknowledged requests whose signed callback arrived, per second, from the first request to
 * the last of those callbacks. A server that acknowledges fast but delivers slowly scores its
 * delivery rate; one that delivers as fast as it acknowledges scores its intake. The load is
 * split evenly over `origins` (several instances on one database).
 */

export type SustainedRecord = {
  label: string;
  instances: number;
  durationS: number;
  acknowledged: number;
  /** 2xx answers per second of load. */
  ackPerSec: number;
  /** Acknowledged requests whose callback arrived, per second, load start → last such callback. */
  deliveredPerSec: number;
  delivered: number;
  /** Acknowledged without a callback once the drain was over. */
  lost: number;
  /** Load start → last callback of an acknowledged request. */
  spanS: number;
  non2xx: number;
  errors: number;
  drain: Drain | null;
};

export type SustainedOptions = {
  label: string;
  origins: string[];
  path: string;
  bodies: string[];
  connections: number;
  durationS: number;
  receiver: Receiver;
  /** chargegate: until its backlog is empty. Absent for the peer, which keeps no backlog. */
  waitForDrain?: () => Promise<Drain>;
  /** How long to wait for callbacks after the drain (the peer's are in flight, not queued). */
  graceS: number;
};

export async function sustained(
  o: SustainedOptions,
): Promise<{ record: SustainedRecord; ackIds: IdList }> {
  const share = Math.max(1, Math.round(o.connections / o.origins.length));
  const startMs = monotonicMs();
  const runs = await Promise.all(
    o.origins.map((origin) =>
      hammer(
        { name: 'rest', label: o.label, origin, path: o.path },
        { bodies: o.bodies, connections: share, durationS: o.durationS },
      ),
    ),
  );
  const drain = o.waitForDrain ? await o.waitForDrain() : null;
  const ackIds = new IdList();
  for (const run of runs) ackIds.append(run.ackIds);

  const arrivals = await o.receiver.awaitArrivals(ackIds, o.graceS * 1000);
  const arrived = arrivals.filter((at) => !Number.isNaN(at));
  const lastMs = arrived.reduce((latest, at) => Math.max(latest, at), startMs);
  const spanS = (lastMs - startMs) / 1000;
  const durationS = runs[0]?.durationS ?? o.durationS;
  const sum = (pick: (run: (typeof runs)[number]) => number) =>
    runs.reduce((total, run) => total + pick(run), 0);
  return {
    record: {
      label: o.label,
      instances: o.origins.length,
      durationS,
      acknowledged: ackIds.length,
      ackPerSec: sum((run) => run.ok) / durationS,
      deliveredPerSec: spanS > 0 ? arrived.length / spanS : 0,
      delivered: arrived.length,
      lost: ackIds.length - arrived.length,
      spanS,
      non2xx: sum((run) => run.non2xx),
      errors: sum((run) => run.errors + run.timeouts),
      drain,
    },
    ackIds,
  };
}
