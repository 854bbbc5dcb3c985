import type { AttemptOutcome } from './attempt.ts';
import type { CallbackState } from './charging-session-request.ts';
import type { DecisionReason, DecisionSource, DecisionStatus } from './decision.ts';

/**
 * A charging session request as stored: what the store hands out, whichever database holds it.
 * Times are epoch milliseconds.
 */
export type RequestRecord = {
  id: string;
  stationId: string;
  driverId: string;
  callbackUrl: string;
  createdAt: number;

  decisionStatus: DecisionStatus | null;
  decisionSource: DecisionSource | null;
  decisionReason: DecisionReason | null;
  /** The eMSP's OCPI `authorization_reference`, when it sent one. */
  authorizationReference: string | null;
  decidedAt: number | null;

  callbackState: CallbackState;
  attempts: number;
  /** Attempts since the request was created or last re-queued; indexes the retry schedule. */
  cycleAttempts: number;
  lastAttemptAt: number | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  /** When the next attempt is due; null once the callback is delivered or failed. */
  nextAttemptAt: number | null;
  /** When the callback reached its final state. */
  completedAt: number | null;
};

/**
 * A request claimed by one worker: what delivering it needs (its decision, its attempts so far),
 * not its whole record. `token` fences the claim: it changes with every claim of the row, so a
 * worker whose lease expired and whose row was claimed again cannot record anything.
 */
export type Claim = Pick<
  RequestRecord,
  | 'id'
  | 'stationId'
  | 'driverId'
  | 'callbackUrl'
  | 'createdAt'
  | 'decisionStatus'
  | 'decisionSource'
  | 'decisionReason'
  | 'authorizationReference'
  | 'decidedAt'
  | 'attempts'
  | 'cycleAttempts'
  | 'nextAttemptAt'
> & { owner: string; token: number };

/** One delivery attempt as recorded in the delivery log. */
export type AttemptRecord = {
  requestId: string;
  attempt: number;
  startedAt: number;
  durationMs: number;
  outcome: AttemptOutcome['kind'];
  responseStatus: number | null;
  error: string | null;
  /** The first 1 KiB of the response body, as text. */
  responseBody: string | null;
};

/** Where a page of the newest-first request list continues. */
export type ListCursor = { createdAt: number; id: string };
