import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { GroupCommit } from '../db/group-commit.ts';
import type { RequestQueries, RequestRow } from '../db/requests.ts';
import { type AttemptOutcome, nextStep } from '../domain/attempt.ts';
import {
  type CallbackPayload,
  type DecisionView,
  decisionView,
} from '../domain/charging-session-request.ts';
import { maskDriverId } from '../log-redaction.ts';
import { type Metrics, outcomeLabel } from '../metrics.ts';
import type { Authorizer } from './authorizers/authorizer.ts';
import { deliver } from './deliver.ts';
import { signWebhook } from './sign.ts';

/**
 * Handling one claimed callback: decide once (the decision is stored before anything is sent and
 * never recomputed), send it signed, record the attempt and what follows it.
 */

export type ProcessDeps = {
  owner: string;
  leaseMs: number;
  requests: RequestQueries;
  groupCommit: GroupCommit;
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

export async function processCallback(
  deps: ProcessDeps,
  row: RequestRow,
  signal: AbortSignal,
): Promise<void> {
  const { requests, groupCommit, owner, log, metrics } = deps;
  const webhookId = webhookIdOf(row.id);
  const logContext = { requestId: row.id, webhookId, driverId: maskDriverId(row.driverId) };

  /** Decides, stores and counts the decision; undefined when the claim was lost meanwhile. */
  async function decideAndStore(): Promise<DecisionView | undefined> {
    const decision = await deps.authorizer.decide({
      requestId: row.id,
      stationId: row.stationId,
      driverId: row.driverId,
    });
    const at = deps.now();
    const kept = await groupCommit.run(() =>
      requests.saveDecision(row.id, owner, decision, at, at + deps.leaseMs),
    );
    if (!kept) {
      log.warn(logContext, 'claim lost before the decision was stored; another worker has it');
      return undefined;
    }
    metrics?.decisions.inc({
      status: decision.status,
      source: decision.source,
      reason: decision.reason,
    });
    return (
      decisionView({
        decisionStatus: decision.status,
        decisionReason: decision.reason,
        decidedAt: at,
        authorizationReference: decision.authorizationReference ?? null,
      }) ?? undefined
    );
  }

  const decision = decisionView(row) ?? (await decideAndStore());
  if (!decision) return;

  const payload: CallbackPayload = {
    requestId: row.id,
    stationId: row.stationId,
    driverId: row.driverId,
    ...decision,
  };
  const body = JSON.stringify(payload);
  const startedAt = deps.now();
  const timestamp = Math.floor(startedAt / 1000);
  const outcome: AttemptOutcome = await deliver(deps.dispatcher, {
    url: row.callbackUrl,
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
    row.cycleAttempts + 1,
    deps.retrySchedule,
    deps.random,
    finishedAt,
  );
  const status_ = 'status' in outcome ? outcome.status : null;

  const kept = await groupCommit.run(() =>
    requests.finishAttempt(
      owner,
      {
        requestId: row.id,
        attempt: row.attempts + 1,
        startedAt,
        durationMs: finishedAt - startedAt,
        outcome: outcome.kind,
        responseStatus: status_,
        error: step.error,
        responseBody: 'responseBody' in outcome ? outcome.responseBody : null,
      },
      step,
    ),
  );

  metrics?.callbackAttempts.inc({ outcome: outcomeLabel(outcome) });
  if (!kept) {
    log.warn(
      logContext,
      'claim lost while the callback was sent; the attempt is recorded, the next step is not',
    );
    return;
  }
  if (step.state === 'delivered') {
    metrics?.callbacksFinished.inc({ state: 'delivered' });
    metrics?.deliveryLatency.observe((finishedAt - row.createdAt) / 1000);
    return;
  }
  const attemptLog = {
    ...logContext,
    attempt: row.attempts + 1,
    status: status_,
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
