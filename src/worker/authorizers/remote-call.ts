import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { type Decision, undecided } from '../../domain/decision.ts';
import type { AuthorizerCall } from './authorizer.ts';

/** An HTTP answer as a protocol's pure mapping sees it. */
export type Answer = { statusCode: number; body: string };

/** What one answer means: a decision, or a reason to try again while time remains. */
export type Verdict =
  | { kind: 'decided'; decision: Decision; detail?: string }
  | { kind: 'retry'; outcome: string };

class RetryableAnswer extends Error {}

export type RemoteCallOptions = {
  timeoutMs: number;
  /** Sends one try; rejects on network errors and when `signal` aborts. */
  send: (signal: AbortSignal) => Promise<Answer>;
  verdictOf: (answer: Answer) => Verdict;
  observe?: ((call: AuthorizerCall) => void) | undefined;
  log?: Logger | undefined;
  logContext: Record<string, unknown>;
};

const isAbort = (error: unknown) =>
  error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');

/**
 * Asks until a try gives a decision or the deadline passes (then `unknown`/`timeout`). Each try
 * has its own limit, a third of the deadline (at least 100 ms), so one that hangs leaves room
 * for another; retries back off from 50 ms to 1 s.
 */
export async function decideRemotely({
  timeoutMs,
  send,
  verdictOf,
  observe,
  log,
  logContext,
}: RemoteCallOptions): Promise<Decision> {
  const tryTimeoutMs = Math.max(100, Math.floor(timeoutMs / 3));
  const deadline = AbortSignal.timeout(timeoutMs);
  let lastOutcome = 'none';
  try {
    return await pRetry(
      async () => {
        const startedAt = performance.now();
        const record = (outcome: string) => {
          lastOutcome = outcome;
          observe?.({ outcome, seconds: (performance.now() - startedAt) / 1000 });
        };
        let answer: Answer;
        try {
          answer = await send(AbortSignal.any([deadline, AbortSignal.timeout(tryTimeoutMs)]));
        } catch (error) {
          record(isAbort(error) ? 'timeout' : 'network');
          throw new RetryableAnswer(lastOutcome);
        }
        const verdict = verdictOf(answer);
        if (verdict.kind === 'retry') {
          record(verdict.outcome);
          throw new RetryableAnswer(verdict.outcome);
        }
        record(verdict.decision.reason);
        if (verdict.detail) {
          log?.warn({ ...logContext, detail: verdict.detail }, 'authorizer gave no valid answer');
        }
        return verdict.decision;
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
    if (!deadline.aborted) throw error;
    log?.warn(
      { ...logContext, timeoutMs, lastOutcome },
      'no valid answer from the authorizer within AUTHORIZER_TIMEOUT_MS',
    );
    return undecided('timeout');
  }
}
