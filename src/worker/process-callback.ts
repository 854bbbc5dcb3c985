import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { type AttemptOutcome, nextStep } from '../domain/attempt.ts';
import {
  type CallbackPayload,
  type DecisionView,
  decisionView,
} from '../domain/charging-session-request.ts';
import type { Claim } from '../domain/request-record.ts';
import { maskDriverId } from '../log-redaction.ts';
import { type Metrics, outcomeLabel } from '../metrics.ts';
import type { QueueStore } from '../store/store.ts';
import type { Authorizer } from './authorizers/authorizer.ts';
import { deliver } from './deliver.ts';
import { signWebhook } from './sign.ts';

/**
 * Handling one claimed callback: decide once (the decision is stored before anything is sent and
 * never recomputed), send it signed, record the attempt and what follows it.
 */

export type ProcessDeps = {
  leaseMs: number;
  queue: QueueStore;
  authorizer: Authorizer;
  dispatcher: Dispatcher;
  signingKey: Buffer;
  callbackTimeoutMs: number;
  retrySchedule: readonly number[];
  userAgent: string;
  now: () => number;
  random: () => number;
  log: Logger;
  metrics: Metrics | undefined;
};

export const webhookIdOf = (requestId: string) => `msg_${requestId}`;

/**
 * The decision of a claimed request: the stored one, or one made now by the remote authorizer and
 * stored under the claim. Every decision is counted here, once: `decidedNow` says the built-in
 * ACL made it while claiming. Answers undefined when the claim was lost meanwhile.
 */
async function decisionOf(
  deps: ProcessDeps,
  claim: Claim,
  decidedNow: boolean,
): Promise<DecisionView | undefined> {
  const { metrics } = deps;
  const stored = decisionView(claim);
  if (stored) {
    if (decidedNow) {
      metrics?.decisions.inc({
        status: stored.status,
        source: claim.decisionSource ?? 'acl',
        reason: stored.reason,
      });
    }
    return stored;
  }
  if (deps.authorizer.kind !== 'remote') {
    // The built-in ACL decides every request it claims; a stored request without a decision
    // here means the claim was made without it.
    throw new Error('claimed without a decision while the built-in ACL decides');
  }
  const decision = await deps.authorizer.decide({
    requestId: claim.id,
    stationId: claim.stationId,
    driverId: claim.driverId,
  });
  const decidedAt = deps.now();
  if (!(await deps.queue.saveDecision(claim, decision, decidedAt, deps.leaseMs))) return undefined;
  metrics?.decisions.inc({
    status: decision.status,
    source: decision.source,
    reason: decision.reason,
  });
  return (
    decisionView({
      decisionStatus: decision.status,
      decisionReason: decision.reason,
      decidedAt,
      authorizationReference: decision.authorizationReference ?? null,
    }) ?? undefined
  );
}

/** Answers how the attempt went, or undefined when none was made. */
export async function processCallback(
  deps: ProcessDeps,
  claim: Claim,
  decidedNow: boolean,
  signal: AbortSignal,
): Promise<AttemptOutcome | undefined> {
  const { queue, log, metrics } = deps;
  const webhookId = webhookIdOf(claim.id);
  const logContext = { requestId: claim.id, webhookId, driverId: maskDriverId(claim.driverId) };

  const decision = await decisionOf(deps, claim, decidedNow);
  if (!decision) {
    log.warn(logContext, 'claim lost before the decision was stored; another worker has it');
    return undefined;
  }

  const payload: CallbackPayload = {
    requestId: claim.id,
    stationId: claim.stationId,
    driverId: claim.driverId,
    ...decision,
  };
  const body = JSON.stringify(payload);
  const startedAt = deps.now();
  const timestamp = Math.floor(startedAt / 1000);
  const outcome: AttemptOutcome = await deliver(deps.dispatcher, {
    url: claim.callbackUrl,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': deps.userAgent,
      'webhook-id': webhookId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(deps.signingKey, webhookId, timestamp, body),
    },
    timeoutMs: deps.callbackTimeoutMs,
    now: startedAt,
  });
  // Stopped mid-attempt: the attempt is not recorded; the claim is released and it runs again.
  signal.throwIfAborted();
  const finishedAt = deps.now();
  const step = nextStep(
    outcome,
    claim.cycleAttempts + 1,
    deps.retrySchedule,
    deps.random,
    finishedAt,
  );
  const responseStatus = 'status' in outcome ? outcome.status : null;

  const kept = await queue.finishAttempt(
    claim,
    {
      requestId: claim.id,
      attempt: claim.attempts + 1,
      startedAt,
      durationMs: finishedAt - startedAt,
      outcome: outcome.kind,
      responseStatus,
      error: step.error,
      responseBody: 'responseBody' in outcome ? outcome.responseBody : null,
    },
    step,
  );

  metrics?.callbackAttempts.inc({ outcome: outcomeLabel(outcome) });
  if (!kept) {
    metrics?.fencedWrites.inc();
    log.warn(
      logContext,
      'claim lost while the callback was sent; the attempt is recorded, the next step is not',
    );
    return outcome;
  }
  if (step.state === 'delivered') {
    metrics?.callbacksFinished.inc({ state: 'delivered' });
    metrics?.deliveryLatency.observe((finishedAt - claim.createdAt) / 1000);
    return outcome;
  }
  const attemptLog = {
    ...logContext,
    attempt: claim.attempts + 1,
    status: responseStatus,
    error: step.error,
  };
  if (step.state === 'failed') {
    metrics?.callbacksFinished.inc({ state: 'failed' });
    log.warn(attemptLog, 'callback failed for good');
  } else {
    log.info(
      { ...attemptLog, nextAttemptAt: new Date(step.nextAttemptAt).toISOString() },
      'callback attempt failed',
    );
  }
  return outcome;
}
