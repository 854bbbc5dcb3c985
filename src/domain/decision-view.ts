import type { DecisionView } from './charging-session-request.ts';
import type { DecisionReason, DecisionStatus } from './decision.ts';

/** A decision as stored with its request: complete only when every part is there. */
export type StoredDecision = {
  decisionStatus: DecisionStatus | null;
  decisionReason: DecisionReason | null;
  decidedAt: number | null;
  authorizationReference: string | null;
};

/** The decision as `get` and the callback body show it, or null until it is made. */
export function decisionView(stored: StoredDecision): DecisionView | null {
  const { decisionStatus: status, decisionReason: reason, decidedAt } = stored;
  if (status === null || reason === null || decidedAt === null) return null;
  return {
    status,
    reason,
    decidedAt: new Date(decidedAt).toISOString(),
    ...(stored.authorizationReference !== null && {
      authorizationReference: stored.authorizationReference,
    }),
  };
}
