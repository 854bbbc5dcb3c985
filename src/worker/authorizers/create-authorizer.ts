import type { AuthorizerProtocol } from '../../config.ts';
import { aclAuthorizer } from './acl.ts';
import type { Authorizer, RemoteAuthorizerFactory, RemoteAuthorizerOptions } from './authorizer.ts';
import { createChargegateAuthorizer } from './chargegate.ts';
import { createOcpiAuthorizer } from './ocpi.ts';

/** Every remote protocol `AUTHORIZER_PROTOCOL` can name; the type keeps this list complete. */
const REMOTE_AUTHORIZERS: Record<AuthorizerProtocol, RemoteAuthorizerFactory> = {
  chargegate: createChargegateAuthorizer,
  'ocpi-2.2.1': createOcpiAuthorizer,
};

export type AuthorizerChoice = {
  /** Unset: the built-in ACL. */
  remote: (RemoteAuthorizerOptions & { protocol: AuthorizerProtocol }) | undefined;
};

export function createAuthorizer({ remote }: AuthorizerChoice): Authorizer {
  if (!remote) return aclAuthorizer;
  return REMOTE_AUTHORIZERS[remote.protocol](remote);
}
