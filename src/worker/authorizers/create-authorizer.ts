import type { AuthorizerProtocol } from '../../config.ts';
import { aclAuthorizer } from './acl.ts';
import type { Authorizer, RemoteAuthorizerFactory, RemoteAuthorizerOptions } from './authorizer.ts';

/**
 * Every remote protocol `AUTHORIZER_PROTOCOL` can name; the type keeps this list complete. Each
 * is loaded only when it is configured: the built-in ACL needs none of them, nor the schema
 * library they check answers with.
 */
const REMOTE_AUTHORIZERS: Record<AuthorizerProtocol, () => Promise<RemoteAuthorizerFactory>> = {
  chargegate: async () => (await import('./chargegate.ts')).createChargegateAuthorizer,
  'ocpi-2.2.1': async () => (await import('./ocpi.ts')).createOcpiAuthorizer,
};

export type AuthorizerChoice = {
  /** Unset: the built-in ACL. */
  remote: (RemoteAuthorizerOptions & { protocol: AuthorizerProtocol }) | undefined;
};

export async function createAuthorizer({ remote }: AuthorizerChoice): Promise<Authorizer> {
  if (!remote) return aclAuthorizer;
  const create = await REMOTE_AUTHORIZERS[remote.protocol]();
  return create(remote);
}
