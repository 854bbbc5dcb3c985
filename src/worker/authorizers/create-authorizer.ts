import type { AuthorizerProtocol } from '../../config.ts';
import type { DriverQueries } from '../../db/drivers.ts';
import { createAclAuthorizer } from './acl.ts';
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
  drivers: DriverQueries;
  now: () => number;
};

export function createAuthorizer({ remote, drivers, now }: AuthorizerChoice): Authorizer {
  if (!remote) return createAclAuthorizer(drivers, now);
  return REMOTE_AUTHORIZERS[remote.protocol](remote);
}
