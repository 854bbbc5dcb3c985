import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { type AddressVerdict, refusalMessage } from '../domain/address-policy.ts';

/**
 * The HTTP dispatcher for callbacks. Every connection it opens is checked against the address
 * policy at connect time, on the address actually dialled: IP literals before dialling, host
 * names inside the DNS lookup that feeds the socket, so an answer cannot change between the
 * check and the connect. Connections are kept alive and pooled per origin.
 */

export const REFUSED_DESTINATION = 'ERR_CALLBACK_DESTINATION_REFUSED';

export class RefusedDestinationError extends Error {
  override name = 'RefusedDestinationError';
  readonly code = REFUSED_DESTINATION;
  constructor(
    readonly verdict: Extract<AddressVerdict, { allowed: false }>,
    host: string,
  ) {
    super(refusalMessage(verdict, host));
  }
}

export type GuardedDispatcherOptions = {
  policy: (address: string) => AddressVerdict;
  /** Called once per refused connection. */
  onRefused?: (error: RefusedDestinationError) => void;
  connectTimeoutMs: number;
  connectionsPerOrigin?: number;
  /** The resolver (tests give their own). */
  lookup?: typeof dnsLookup;
};

export function createGuardedDispatcher({
  policy,
  onRefused,
  connectTimeoutMs,
  connectionsPerOrigin = 64,
  lookup = dnsLookup,
}: GuardedDispatcherOptions): Agent {
  const refuse = (verdict: AddressVerdict, host: string) => {
    const error = new RefusedDestinationError(
      verdict as Extract<AddressVerdict, { allowed: false }>,
      host,
    );
    onRefused?.(error);
    return error;
  };

  const guardedLookup = ((hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      const allowed = addresses.filter((entry) => policy(entry.address).allowed);
      const first = allowed[0];
      if (!first) {
        const refused = refuse(policy(addresses[0]?.address ?? hostname), hostname);
        return callback(refused as NodeJS.ErrnoException, '', 4);
      }
      if (options.all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      return callback(null, first.address, first.family);
    });
  }) as LookupFunction;

  const connect = buildConnector({ lookup: guardedLookup, timeout: connectTimeoutMs });

  return new Agent({
    connections: connectionsPerOrigin,
    keepAliveTimeout: 4_000,
    connect: (options, callback) => {
      if (isIP(options.hostname)) {
        const verdict = policy(options.hostname);
        if (!verdict.allowed) return callback(refuse(verdict, options.hostname), null);
      }
      return connect(options, callback);
    },
  });
}
