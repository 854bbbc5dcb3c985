import pRetry from 'p-retry';
import type { Dispatcher } from 'undici';
import type { AttemptOutcome } from '../domain/attempt.ts';
import { parseRetryAfter } from '../domain/retry-schedule.ts';
import { REFUSED_DESTINATION } from './guarded-dispatcher.ts';

/**
 * One delivery attempt: POST the signed body, read at most a small part of the answer, and say
 * what happened. Connection resets before an answer are retried at once inside the attempt's
 * time limit (p-retry); everything else is left to the stored retry schedule.
 *
 * The request goes through undici's `dispatch` with a handler of its own rather than through
 * `request()`: no response stream, no abort signal and no promise per chunk, which is most of the
 * client's cost per callback (on a 2-core VM about 35 µs of CPU per attempt instead of 80–100).
 */

export const RESPONSE_BODY_KEPT = 1024;
/** Beyond this many bytes the response body is not read: the connection is dropped instead. */
const RESPONSE_BODY_READ = 64 * 1024;
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

export type DeliveryRequest = {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  now: number;
};

const errorCode = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : undefined;
};

function describe(error: unknown, timeoutMs: number): AttemptOutcome {
  const code = errorCode(error);
  if (code === REFUSED_DESTINATION) return { kind: 'refused', error: (error as Error).message };
  const name = (error as { name?: string })?.name;
  if (
    name === 'TimeoutError' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return { kind: 'timeout', error: `no answer within CALLBACK_TIMEOUT_MS (${timeoutMs} ms)` };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    kind: 'network',
    error: code && !message.includes(code) ? `${code}: ${message}` : message,
  };
}

class AttemptTimeout extends Error {
  override name = 'TimeoutError';
}

/** The answer as far as an attempt needs it: the status, a header, the first bytes of the body. */
type Answer = { status: number; retryAfter: string | undefined; head: string };

function outcomeOf({ status, retryAfter, head }: Answer, now: number): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status, responseBody: head };
  return {
    kind: 'http_error',
    status,
    responseBody: head,
    retryAfterMs: status === 429 || status === 503 ? parseRetryAfter(retryAfter, now) : undefined,
  };
}

/** One request, ended by `deadline` (the attempt's whole time limit) if it is still going then. */
function sendOnce(
  dispatcher: Dispatcher,
  { url, body, headers, timeoutMs }: DeliveryRequest,
  deadline: number,
): Promise<Answer> {
  const { origin, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let late = false;
    let settled = false;
    let status = 0;
    let retryAfter: string | undefined;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let readBytes = 0;
    const timer = setTimeout(
      () => {
        late = true;
        controller?.abort(new AttemptTimeout('the attempt ran out of time'));
      },
      Math.max(0, deadline - Date.now()),
    );
    const settle = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve({ status, retryAfter, head: Buffer.concat(kept).toString('utf8') });
    };
    dispatcher.dispatch(
      {
        origin,
        path: pathname + search,
        method: 'POST',
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      {
        onRequestStart(started) {
          controller = started;
          if (late) started.abort(new AttemptTimeout('the attempt ran out of time'));
        },
        onResponseStart(_controller, statusCode, responseHeaders) {
          status = statusCode;
          const value = responseHeaders['retry-after'];
          retryAfter = Array.isArray(value) ? value[0] : value;
        },
        onResponseData(started, chunk) {
          readBytes += chunk.length;
          if (keptBytes < RESPONSE_BODY_KEPT) {
            const part = chunk.subarray(0, RESPONSE_BODY_KEPT - keptBytes);
            kept.push(part);
            keptBytes += part.length;
          }
          // Enough of the answer: its status stands, and the rest is not read.
          if (readBytes > RESPONSE_BODY_READ) {
            settle(undefined);
            started.abort(new Error('response body too large to read'));
          }
        },
        onResponseEnd() {
          settle(undefined);
        },
        onResponseError(_controller, error) {
          settle(error);
        },
      },
    );
  });
}

const isReset = (error: unknown) => RESET_CODES.has(errorCode(error) ?? '');

/**
 * One attempt, bounded by `timeoutMs` in total. The common case costs one request; only a reset
 * connection (typically a kept-alive socket the receiver closed just then) brings in p-retry for
 * a couple of immediate retries inside the same time limit.
 */
export async function deliver(
  dispatcher: Dispatcher,
  delivery: DeliveryRequest,
): Promise<AttemptOutcome> {
  const deadline = Date.now() + delivery.timeoutMs;
  const send = () => sendOnce(dispatcher, delivery, deadline);
  try {
    try {
      return outcomeOf(await send(), delivery.now);
    } catch (error) {
      if (!isReset(error)) throw error;
      const answer = await pRetry(send, {
        retries: 2,
        minTimeout: 20,
        maxTimeout: 200,
        maxRetryTime: Math.max(0, deadline - Date.now()),
        shouldRetry: ({ error: next }) => isReset(next),
      });
      return outcomeOf(answer, delivery.now);
    }
  } catch (error) {
    return describe(error, delivery.timeoutMs);
  }
}
