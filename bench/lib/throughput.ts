import autocannon, { type AutocannonRequest } from 'autocannon';
import { IdList } from './id-list.ts';
import { acknowledgedId } from './payload.ts';

/**
 * One closed-loop autocannon run against one target: a fixed number of connections, each sending
 * its next request as soon as the previous answer arrives.
 */

export const TARGETS = ['baseline', 'rest', 'trpc'] as const;
export type TargetName = (typeof TARGETS)[number];

export type Target = { name: TargetName; label: string; origin: string; path: string };

export type ThroughputRun = {
  target: TargetName;
  durationS: number;
  /** 2xx answers per second: a fast error is not throughput. */
  reqPerSec: number;
  ok: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  /** 2xx answers without an acknowledgement and requestId in the body. */
  malformedAcks: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Every requestId the target acknowledged. */
  ackIds: IdList;
};

export async function hammer(
  target: Target,
  { bodies, connections, durationS }: { bodies: string[]; connections: number; durationS: number },
): Promise<ThroughputRun> {
  const ackIds = new IdList();
  let malformedAcks = 0;
  const onResponse: AutocannonRequest['onResponse'] = (status, body) => {
    if (status < 200 || status >= 300) return;
    const id = acknowledgedId(body);
    if (id === undefined || !ackIds.push(id)) malformedAcks++;
  };
  // Fixed requests, not setupRequest: autocannon builds each buffer once, so generating load
  // costs the same per request for every target.
  const requests: AutocannonRequest[] = bodies.map((body) => ({
    method: 'POST',
    path: target.path,
    headers: { 'content-type': 'application/json' },
    body,
    onResponse,
  }));
  const result = await autocannon({
    url: target.origin,
    connections,
    duration: durationS,
    timeout: 10,
    requests,
  });
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]),
  );
  return {
    target: target.name,
    durationS: result.duration,
    reqPerSec: result['2xx'] / result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    malformedAcks,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    ackIds,
  };
}
