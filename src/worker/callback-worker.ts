import type { Logger } from 'pino';
import { Agent } from 'undici';
import { createAddressPolicy, parseCidrList } from '../domain/address-policy.ts';
import { webhookSecretKey } from '../domain/webhook-secret.ts';
import type { QueueStore } from '../store/store.ts';
import { createAuthorizer } from './authorizers/create-authorizer.ts';
import type { CallbackWorkerSettings } from './callback-worker-settings.ts';
import type { BreakerOptions } from './circuit-breaker.ts';
import { createGuardedDispatcher } from './guarded-dispatcher.ts';
import { createWorker, type Worker } from './worker.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

/**
 * The callback worker with everything it sends through: the address-guarded callback
 * dispatcher, the authorizer and its dispatcher. Built the same way on the event loop and in the
 * worker's own thread (`worker-thread.ts`), from settings that are plain data.
 */

/** What a claimed callback's lease keeps beyond its longest step, for clocks and commits. */
const LEASE_MARGIN_MS = 1_000;

export type CallbackWorkerDeps = {
  settings: CallbackWorkerSettings;
  queue: QueueStore;
  log: Logger;
  metrics: WorkerMetrics;
  now?: () => number;
  random?: () => number;
  /** True while HTTP traffic saturates the process: the delivery controller then backs off. */
  underPressure: () => boolean;
  /** The worker's own thread's busy share since the last call, where it has a thread. */
  busy?: () => number;
  breaker?: BreakerOptions;
};

export type CallbackWorker = {
  worker: Worker;
  /** Closes the dispatchers, once the worker has stopped. */
  close(): Promise<void>;
};

export async function createCallbackWorker({
  settings,
  queue,
  log,
  metrics,
  now = Date.now,
  random = Math.random,
  underPressure,
  busy,
  breaker,
}: CallbackWorkerDeps): Promise<CallbackWorker> {
  const callbackDispatcher = createGuardedDispatcher({
    policy: createAddressPolicy(parseCidrList(settings.allowedCidrs)),
    connectTimeoutMs: settings.callbackTimeoutMs,
    // The worker never has more attempts in flight to one origin, so the pool matches.
    connectionsPerOrigin: settings.perOriginConcurrency,
    onRefused: (error) =>
      log.warn(
        { range: error.verdict.range, kind: error.verdict.kind },
        `callback refused: ${error.message}`,
      ),
  });
  const remote = settings.authorizer;
  const authorizerDispatcher = remote
    ? new Agent({ keepAliveTimeout: 4_000, connections: settings.concurrency })
    : undefined;
  const authorizer = await createAuthorizer({
    remote:
      remote && authorizerDispatcher
        ? {
            ...remote,
            dispatcher: authorizerDispatcher,
            log: log.child({ component: 'authorizer' }),
            observe: ({ outcome, seconds }) => {
              metrics.authorizerCalls.inc({ protocol: remote.protocol, outcome });
              metrics.authorizerCallDuration.observe({ protocol: remote.protocol }, seconds);
            },
          }
        : undefined,
  });

  // A claimed callback's lease must cover its decision (renewed once it is stored) or its attempt.
  const longestStep = Math.max(settings.callbackTimeoutMs, remote?.timeoutMs ?? 0);
  const worker = createWorker({
    leaseMs: settings.leaseMs,
    startWithinMs: Math.max(0, settings.leaseMs - longestStep - LEASE_MARGIN_MS),
    queue,
    authorizer,
    dispatcher: callbackDispatcher,
    signingKey: webhookSecretKey(settings.webhookSecret),
    callbackTimeoutMs: settings.callbackTimeoutMs,
    retrySchedule: settings.retrySchedule,
    userAgent: settings.userAgent,
    now,
    random,
    log: log.child({ component: 'worker' }),
    metrics,
    concurrency: settings.concurrency,
    perOriginConcurrency: settings.perOriginConcurrency,
    breaker,
    pollIntervalMs: settings.pollIntervalMs,
    underPressure,
    busy,
  });

  return {
    worker,
    async close() {
      const close = (dispatcher: Agent | undefined) =>
        dispatcher && !dispatcher.destroyed ? dispatcher.close() : undefined;
      await Promise.all([close(callbackDispatcher), close(authorizerDispatcher)]);
    },
  };
}
