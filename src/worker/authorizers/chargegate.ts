import { request } from 'undici';
import { z } from 'zod';
import { undecided } from '../../domain/decision.ts';
import type { RemoteAuthorizer, RemoteAuthorizerOptions } from './authorizer.ts';
import { type Answer, decideRemotely, type Verdict } from './remote-call.ts';

/**
 * chargegate's own protocol: `POST url` with `{ stationId, driverId }`; a valid answer is a 200
 * with `{ status }`. It says what, never why: the reason is always `authorizer`.
 */

const answerSchema = z.object({ status: z.enum(['allowed', 'not_allowed', 'invalid']) });

/** What an answer means. 5xx is retried; anything else that is not a valid 200 is a bad answer. */
export function chargegateVerdict({ statusCode, body }: Answer): Verdict {
  if (statusCode >= 500) return { kind: 'retry', outcome: '5xx' };
  const bad = (detail: string): Verdict => ({
    kind: 'decided',
    decision: undecided('bad_answer'),
    detail,
  });
  if (statusCode !== 200) return bad(`HTTP ${statusCode}`);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return bad('the body is not JSON');
  }
  const answer = answerSchema.safeParse(json);
  if (!answer.success) return bad('the body has no valid status');
  return {
    kind: 'decided',
    decision: { status: answer.data.status, source: 'authorizer', reason: 'authorizer' },
  };
}

export function createChargegateAuthorizer({
  url,
  timeoutMs,
  dispatcher,
  observe,
  log,
}: RemoteAuthorizerOptions): RemoteAuthorizer {
  return {
    kind: 'remote',
    decide: ({ requestId, stationId, driverId }) =>
      decideRemotely({
        timeoutMs,
        observe,
        log,
        logContext: { requestId },
        verdictOf: chargegateVerdict,
        async send(signal) {
          const response = await request(url, {
            method: 'POST',
            dispatcher,
            headers: { 'content-type': 'application/json', 'user-agent': 'chargegate' },
            body: JSON.stringify({ stationId, driverId }),
            signal,
          });
          return { statusCode: response.statusCode, body: await response.body.text() };
        },
      }),
  };
}
