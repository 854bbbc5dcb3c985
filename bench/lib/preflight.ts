import { IdList } from './id-list.ts';
import type { Receiver } from './receiver.ts';
import type { Target } from './throughput.ts';

/**
 * One request to each target before any load: each must acknowledge with the documented body
 * (and Location header, for the REST routes), and chargegate's must each produce a callback.
 * If not, the figures that follow would measure something else, so the harness stops here.
 * Answers the requestIds chargegate acknowledged.
 */
export async function preflight(
  targets: Target[],
  body: string,
  receiver: Receiver,
  timeoutMs = 15_000,
): Promise<IdList> {
  const acknowledged: string[] = [];
  let chargegateOrigin = '';
  for (const target of targets) {
    const response = await fetch(target.origin + target.path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    const id = /"requestId":"([0-9a-f-]{36})"/.exec(text)?.[1];
    if (response.status !== 200 || !id || !text.includes('"status":"acknowledged"')) {
      throw new Error(`${target.label} answered ${response.status} ${text.slice(0, 500)}`);
    }
    const location = response.headers.get('location');
    if (target.name !== 'trpc' && location !== `/api/charging-session-requests/${id}`) {
      throw new Error(`${target.label} answered Location ${location} for ${id}`);
    }
    if (target.name !== 'baseline') {
      acknowledged.push(id);
      chargegateOrigin = target.origin;
    }
  }

  const ids = IdList.of(acknowledged);
  const arrivals = await receiver.awaitArrivals(ids, timeoutMs, 50);
  if (arrivals.every((at) => !Number.isNaN(at))) return ids;
  const views = await Promise.all(
    acknowledged.map((id) =>
      fetch(`${chargegateOrigin}/api/charging-session-requests/${id}`).then((r) => r.text()),
    ),
  );
  throw new Error(
    `no callback within ${timeoutMs} ms for the preflight requests:\n${views.join('\n')}`,
  );
}
