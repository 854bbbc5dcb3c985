import pRetry, { AbortError } from 'p-retry';
import { type Dispatcher, request } from 'undici';
import { z } from 'zod';
import type { Decision } from '../domain/decision.ts';

/**
 * Where decisions come from. The built-in ACL decides while a request is claimed, from the ACL
 * facts the store reads with the claim (no I/O of its own); a remote authorizer is called once
 * per request before its first attempt.
 */
export type AuthorizationRequest = { requestId: string; stationId: string; driverId: string };

export type RemoteAuthorizer = {
  kind: 'remote';
  decide(request: AuthorizationRequest): Promise<Decision>;
};

export type Authorizer = { kind: 'acl' } | RemoteAuthorizer;

export const aclAuthorizer: Authorizer = { kind: 'acl' };

const answerSchema = z.object({ status: z.enum(['allowed', 'not_allowed', 'invalid']) });

class RetryableAnswer extends Error {}

export type RemoteAuthorizerOptions = {
  url: string;
  timeoutMs: number;
  dispatcher: Dispatcher;
};

/**
 * `POST url` with `{ stationId, driverId }`; a valid answer is a 200 with `{ status }`.
 * Network errors, timeouts and 5xx are retried until the deadline; an invalid answer, or no
 * valid answer by the deadline, decides `unknown`.
 */
export function createRemoteAuthorizer({
  url,
  timeoutMs,
  dispatcher,
}: RemoteAuthorizerOptions): RemoteAuthorizer {
  /** A third of the deadline per try (at least 100 ms): room for a retry after a try hangs. */
  const tryTimeoutMs = Math.max(100, Math.floor(timeoutMs / 3));
  const unknown = (reason: string): Decision => ({
    status: 'unknown',
    source: 'authorizer',
    reason,
  });

  return {
    kind: 'remote',
    async decide({ stationId, driverId }) {
      const deadline = AbortSignal.timeout(timeoutMs);
      try {
        return await pRetry(
          async () => {
            // Each try has its own limit, so one that hangs is retried while time remains.
            const response = await request(url, {
              method: 'POST',
              dispatcher,
              headers: { 'content-type': 'application/json', 'user-agent': 'chargegate' },
              body: JSON.stringify({ stationId, driverId }),
              signal: AbortSignal.any([deadline, AbortSignal.timeout(tryTimeoutMs)]),
            });
            const text = await response.body.text();
            if (response.statusCode >= 500) {
              throw new RetryableAnswer(`authorizer answered ${response.statusCode}`);
            }
            if (response.statusCode !== 200) {
              throw new AbortError(`authorizer answered ${response.statusCode}`);
            }
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              throw new AbortError('authorizer answered with invalid JSON');
            }
            const answer = answerSchema.safeParse(json);
            if (!answer.success) throw new AbortError('authorizer answered without a valid status');
            return {
              status: answer.data.status,
              source: 'authorizer',
              reason: 'authorizer answered',
            } as Decision;
          },
          {
            retries: Number.POSITIVE_INFINITY,
            minTimeout: 50,
            maxTimeout: 1_000,
            factor: 2,
            signal: deadline,
          },
        );
      } catch (error) {
        if (deadline.aborted)
          return unknown(`no valid answer within AUTHORIZER_TIMEOUT_MS (${timeoutMs} ms)`);
        return unknown((error as Error).message);
      }
    },
  };
}
