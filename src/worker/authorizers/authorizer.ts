import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { OcpiTokenType } from '../../config.ts';
import type { Decision } from '../../domain/decision.ts';

/**
 * Where decisions come from. Every authorizer is a pure mapping from what it learns (the ACL's
 * facts, a remote service's answer) to a Decision, plus the I/O around it. The built-in ACL needs
 * no I/O of its own: the store reads its facts with the claim and `decideWithAcl` decides there.
 * A remote authorizer is called once per request, before its first attempt.
 */

export type AuthorizationRequest = { requestId: string; stationId: string; driverId: string };

export type RemoteAuthorizer = {
  kind: 'remote';
  decide(request: AuthorizationRequest): Promise<Decision>;
};

export type Authorizer = { kind: 'acl' } | RemoteAuthorizer;

/** One HTTP try of a remote authorizer: its outcome (a reason code or why it is retried). */
export type AuthorizerCall = { outcome: string; seconds: number };

/** What every remote protocol is built from; a protocol ignores what it does not use. */
export type RemoteAuthorizerOptions = {
  url: string;
  /** The decision deadline: tries and retries all fit inside it. */
  timeoutMs: number;
  dispatcher: Dispatcher;
  /** Credentials for protocols that send them (OCPI). Never logged. */
  token?: string | undefined;
  tokenType?: OcpiTokenType;
  observe?: (call: AuthorizerCall) => void;
  log?: Logger;
};

export type RemoteAuthorizerFactory = (options: RemoteAuthorizerOptions) => RemoteAuthorizer;
