import pRetry from 'p-retry';
import { type Dispatcher, request } from 'undici';
import type { AttemptOutcome } from '../domain/attempt.ts';
import { parseRetryAfter } from '../domain/retry-schedule.ts';
import { REFUSED_DESTINATION } from './guarded-dispatcher.ts';

/**
 * One delivery attempt: POST the signed body, read at most a small part of the answer, and say
 * what happened. Connection resets before an answer are retried at once inside the attempt's
 * time limit (p-retry); everything else is left to the stored retry schedule.
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

async function readHead(body: Dispatcher.ResponseData['body']): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let readBytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    readBytes += chunk.length;
    if (keptBytes < RESPONSE_BODY_KEPT) {
      const part = chunk.subarray(0, RESPONSE_BODY_KEPT - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
    if (readBytes > RESPONSE_BODY_READ) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(kept).toString('utf8');
}

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

async function sendOnce(
  dispatcher: Dispatcher,
  delivery: DeliveryRequest,
  signal: AbortSignal,
): Promise<AttemptOutcome> {
  const response = await request(delivery.url, {
    method: 'POST',
    dispatcher,
    headers: delivery.headers,
    body: delivery.body,
    signal,
    headersTimeout: delivery.timeoutMs,
    bodyTimeout: delivery.timeoutMs,
  });
  const responseBody = await readHead(response.body);
  const status = response.statusCode;
  if (status >= 200 && status < 300) return { kind: 'delivered', status, responseBody };
  const retryAfter = response.headers['retry-after'];
  return {
    kind: 'http_error',
    status,
    responseBody,
    retryAfterMs:
      status === 429 || status === 503
        ? parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, delivery.now)
        : undefined,
  };
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
  const signal = AbortSignal.timeout(delivery.timeoutMs);
  const send = () => sendOnce(dispatcher, delivery, signal);
  try {
    try {
      return await send();
    } catch (error) {
      if (!isReset(error)) throw error;
      return await pRetry(send, {
        retries: 2,
        minTimeout: 20,
        maxTimeout: 200,
        signal,
        shouldRetry: ({ error: next }) => isReset(next),
      });
    }
  } catch (error) {
    return describe(error, delivery.timeoutMs);
  }
}
