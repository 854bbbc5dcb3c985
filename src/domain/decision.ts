/**
 * Whether a driver may charge at a station, and why. `decideWithAcl` is the built-in rule; a
 * remote authorizer answers the same statuses, and `unknown` stands for no valid answer in time.
 */

export const DECISION_STATUSES = ['allowed', 'not_allowed', 'unknown', 'invalid'] as const;
export type DecisionStatus = (typeof DECISION_STATUSES)[number];

export const DECISION_SOURCES = ['acl', 'authorizer'] as const;
export type DecisionSource = (typeof DECISION_SOURCES)[number];

/**
 * Why a decision was made: a short code stored with it and sent to receivers. Lower-case codes
 * are chargegate's own; upper-case ones are OCPI `AllowedType` values passed on as the eMSP sent
 * them.
 */
export const DECISION_REASONS = [
  // built-in ACL
  'granted',
  'blocked',
  'expired',
  'station_not_granted',
  'unknown_driver',
  // OCPI 2.2.1
  'ALLOWED',
  'BLOCKED',
  'EXPIRED',
  'NO_CREDIT',
  'NOT_ALLOWED',
  'unknown_token',
  // the chargegate protocol: the authorizer said so, without a why
  'authorizer',
  // any remote authorizer that gave no valid answer
  'timeout',
  'bad_answer',
] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

export type Decision = {
  status: DecisionStatus;
  source: DecisionSource;
  reason: DecisionReason;
  /** The eMSP's `authorization_reference` (OCPI), kept so that later sessions can quote it. */
  authorizationReference?: string;
};

export type AclDriver = {
  status: 'active' | 'blocked';
  /** Epoch milliseconds after which the driver may no longer charge; null = never expires. */
  expiresAt: number | null;
  allStations: boolean;
};

/** What the built-in ACL knows of one request: the driver, if known, and whether it holds the grant. */
export type AclFacts = { driver: AclDriver | undefined; granted: boolean };

/** The built-in ACL rule. `granted` says whether the driver holds a grant for this station. */
export function decideWithAcl(
  driver: AclDriver | undefined,
  granted: boolean,
  now: number,
): Decision {
  const acl = (status: DecisionStatus, reason: DecisionReason): Decision => ({
    status,
    source: 'acl',
    reason,
  });
  if (!driver) return acl('invalid', 'unknown_driver');
  if (driver.status === 'blocked') return acl('not_allowed', 'blocked');
  if (driver.expiresAt !== null && now >= driver.expiresAt) return acl('not_allowed', 'expired');
  if (driver.allStations || granted) return acl('allowed', 'granted');
  return acl('not_allowed', 'station_not_granted');
}

/** A decision that no valid answer came from a remote authorizer. */
export const undecided = (reason: 'timeout' | 'bad_answer'): Decision => ({
  status: 'unknown',
  source: 'authorizer',
  reason,
});
