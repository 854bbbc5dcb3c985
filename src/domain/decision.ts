/**
 * Whether a driver may charge at a station. `decideWithAcl` is the built-in rule; a remote
 * authorizer answers the same statuses, and `unknown` stands for no valid answer in time.
 */

export const DECISION_STATUSES = ['allowed', 'not_allowed', 'unknown', 'invalid'] as const;
export type DecisionStatus = (typeof DECISION_STATUSES)[number];

export const DECISION_SOURCES = ['acl', 'authorizer'] as const;
export type DecisionSource = (typeof DECISION_SOURCES)[number];

export type Decision = {
  status: DecisionStatus;
  source: DecisionSource;
  /** Why, in a few words: kept with the decision for operators, never sent to receivers. */
  reason: string;
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
  if (!driver) return { status: 'invalid', source: 'acl', reason: 'driver unknown' };
  if (driver.status === 'blocked') {
    return { status: 'not_allowed', source: 'acl', reason: 'driver blocked' };
  }
  if (driver.expiresAt !== null && now >= driver.expiresAt) {
    return { status: 'not_allowed', source: 'acl', reason: 'driver expired' };
  }
  if (driver.allStations) return { status: 'allowed', source: 'acl', reason: 'all stations' };
  if (granted) return { status: 'allowed', source: 'acl', reason: 'station granted' };
  return { status: 'not_allowed', source: 'acl', reason: 'station not granted' };
}
