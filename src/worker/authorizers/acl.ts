import type { Authorizer } from './authorizer.ts';

/**
 * The built-in driver ACL. Its rule is the pure `decideWithAcl` in `domain/decision.ts`, applied
 * by the store to the facts it reads with each claim, so a decision shares the claim's commit.
 */
export const aclAuthorizer: Authorizer = { kind: 'acl' };
