import type { DriverQueries } from '../../db/drivers.ts';
import { type Decision, decideWithAcl } from '../../domain/decision.ts';
import type { AuthorizationRequest, Authorizer } from './authorizer.ts';

/** The built-in driver ACL; its pure rule is `decideWithAcl`. Needs no I/O, so it decides now. */
export function createAclAuthorizer(drivers: DriverQueries, now: () => number): Authorizer {
  const decideNow = ({ stationId, driverId }: AuthorizationRequest): Decision => {
    const { driver, granted } = drivers.aclFacts(driverId, stationId);
    return decideWithAcl(driver, granted, now());
  };
  return { decide: async (request) => decideNow(request), decideNow };
}
