import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { type AttemptOutcome, type NextStep, nextStep } from '../domain/attempt.ts';
import type { CallbackPayload, DecisionView } from '../domain/charging-session-request.ts';
import { decisionView } from '../domain/decision-view.ts';
import type { AttemptRecord, Claim } from '../domain/request-record.ts';
import { maskDriverId } from '../log-redaction.ts';
import type { QueueStore } from '../store/store.ts';
import type { Authorizer } from './authorizers/authorizer.ts';
import { deliver } from './deliver.ts';
import { signWebhook } from './sign.ts';
import { outcomeLabel, type WorkerMetrics } from './worker-metrics.ts';

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
  metrics: WorkerMetrics | undefined;
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

/**
 * What became of a claimed callback: how its attempt went (undefined when none was made), and
 * the record of it, which commits after the attempt has ended. The attempt's slot is free once
 * the answer is in; recording the attempt does not hold it.
 */
export type Processed = {
  outcome: AttemptOutcome | undefined;
  /** Settles once the attempt and the request's next step are committed (or refused). */
  recorded: Promise<void>;
};

const NOTHING_TO_RECORD = Promise.resolve();

export async function processCallback(
  deps: ProcessDeps,
  claim: Claim,
  decidedNow: boolean,
  signal: AbortSignal,
): Promise<Processed> {
  const { queue, log } = deps;
  const webhookId = webhookIdOf(claim.id);
  const logContext = { requestId: claim.id, webhookId, driverId: maskDriverId(claim.driverId) };

  const decision = await decisionOf(deps, claim, decidedNow);
  if (!decision) {
    log.warn(logContext, 'claim lost before the decision was stored; another worker has it');
    return { outcome: undefined, recorded: NOTHING_TO_RECORD };
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
  const record: AttemptRecord = {
    requestId: claim.id,
    attempt: claim.attempts + 1,
    startedAt,
    durationMs: finishedAt - startedAt,
    outcome: outcome.kind,
    responseStatus: 'status' in outcome ? outcome.status : null,
    error: step.error,
    responseBody: 'responseBody' in outcome ? outcome.responseBody : null,
  };
  const recorded = queue
    .finishAttempt(claim, record, step)
    .then((kept) => reportRecorded(deps, claim, outcome, step, record, kept, logContext));
  return { outcome, recorded };
}

/** Metrics and log lines for an attempt, once its record is committed. */
function reportRecorded(
  { log, metrics }: ProcessDeps,
  claim: Claim,
  outcome: AttemptOutcome,
  step: NextStep,
  record: AttemptRecord,
  kept: boolean,
  logContext: Record<string, unknown>,
): void {
  metrics?.callbackAttempts.inc({ outcome: outcomeLabel(outcome) });
  if (!kept) {
    metrics?.fencedWrites.inc();
    log.warn(
      logContext,
      'claim lost while the callback was sent; the attempt is recorded, the next step is not',
    );
    return;
  }
  if (step.state === 'delivered') {
    metrics?.callbacksFinished.inc({ state: 'delivered' });
    metrics?.deliveryLatency.observe((step.completedAt - claim.createdAt) / 1000);
    return;
  }
  const attemptLog = {
    ...logContext,
    attempt: record.attempt,
    status: record.responseStatus,
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
}
