import type { Admin } from './chargegate-admin.ts';
import type { IdList } from './id-list.ts';
import type { Receiver } from './receiver.ts';
import type { CallbackRecord } from './results.ts';

/**
 * The whole run's delivery count: once the worker has drained, every requestId chargegate
 * acknowledged must have reached the receiver at least once. Anything else is a lost callback.
 */
export async function accountCallbacks({
  acknowledged,
  admin,
  receiver,
  drainTimeoutMs,
  otherCallbacks,
}: {
  acknowledged: IdList;
  admin: Admin;
  receiver: Receiver;
  drainTimeoutMs: number;
  /** Distinct callbacks the receiver got from other servers (the peer, PostgreSQL instances). */
  otherCallbacks: number;
}): Promise<CallbackRecord> {
  const finalDrain = await admin.waitForDrain(drainTimeoutMs);
  const { arrivals, summary } = await receiver.arrivals(acknowledged);
  const lostSample: string[] = [];
  let lost = 0;
  arrivals.forEach((at, i) => {
    if (!Number.isNaN(at)) return;
    lost++;
    if (lostSample.length < 20) lostSample.push(acknowledged.at(i));
  });
  const delivered = acknowledged.length - lost;
  return {
    acknowledged: acknowledged.length,
    delivered,
    lost,
    lostSample,
    unseenAcks: summary.distinct - otherCallbacks - delivered,
    receiver: summary,
    serverPending: await admin.countInState('pending'),
    serverFailed: await admin.countInState('failed'),
    finalDrain,
  };
}
