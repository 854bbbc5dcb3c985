import type { AclDriver, AclFacts, Decision } from '../domain/decision.ts';
import type { ClaimResult } from './store.ts';

/**
 * The built-in ACL decides while a request is claimed, from the driver's columns joined to the
 * claim (null when the driver is unknown) and whether a grant row matched. Both adapters read
 * those columns their own way and decide through here.
 */

export type JoinedAcl = {
  status: AclDriver['status'] | null;
  expiresAt: number | null;
  /** A boolean, or SQLite's 0/1. */
  allStations: boolean | number | null;
  granted: boolean | number;
};

export function aclFactsOf(row: JoinedAcl): AclFacts {
  return {
    driver:
      row.status === null
        ? undefined
        : { status: row.status, expiresAt: row.expiresAt, allStations: !!row.allStations },
    granted: !!row.granted,
  };
}

/** Gives a claim the decision just stored with it, and marks it decided now (to be counted). */
export function markDecided(result: ClaimResult, decision: Decision, decidedAt: number): void {
  Object.assign(result.claim, {
    decisionStatus: decision.status,
    decisionSource: decision.source,
    decisionReason: decision.reason,
    authorizationReference: decision.authorizationReference ?? null,
    decidedAt,
  });
  result.decidedNow = true;
}
