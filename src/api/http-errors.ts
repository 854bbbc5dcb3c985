import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorBody, INTERNAL_ERROR_MESSAGE } from './errors.ts';

/**
 * Errors Fastify raises before a procedure runs (bad JSON, too large, wrong content type,
 * no route) answered in the same `{ code, message }` shape as procedure errors.
 */

/** An error raised before a procedure runs whose message is meant for the client as it stands. */
export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

const CODE_BY_STATUS: Record<number, TRPC_ERROR_CODE_KEY> = {
  431: 'BAD_REQUEST',
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_SUPPORTED',
  408: 'TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_CONTENT',
  429: 'TOO_MANY_REQUESTS',
};

const codeForStatus = (status: number): TRPC_ERROR_CODE_KEY =>
  CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST');

/** Client-facing wording for Fastify's own errors. */
function messageFor(
  error: FastifyError,
  bodyLimit: number,
  contentType: string | undefined,
): string {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'the request body is not valid JSON';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'the request body is empty; send a JSON object';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `the request body is larger than ${bodyLimit} bytes`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return contentType
        ? `unsupported Content-Type "${contentType}"; send application/json`
        : 'missing Content-Type; send application/json';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'Content-Length does not match the body';
    case 'FST_ERR_BAD_URL':
      return 'the URL is not valid (check its percent-encoding)';
    default:
      return error.message;
  }
}

/** The status and public body for an error that reached Fastify's error handler. */
export function httpErrorBody(
  error: FastifyError,
  bodyLimit: number,
  contentType: string | undefined,
): { status: number; body: ErrorBody } {
  const status =
    typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 600
      ? error.statusCode
      : 500;
  if (status >= 500) {
    return { status, body: { code: codeForStatus(status), message: INTERNAL_ERROR_MESSAGE } };
  }
  // Only Fastify's own client errors and ours carry a message meant for the client.
  const message =
    error instanceof ClientError
      ? error.message
      : typeof error.code === 'string' && error.code.startsWith('FST_')
        ? messageFor(error, bodyLimit, contentType)
        : 'the request could not be processed';
  return { status, body: { code: codeForStatus(status), message } };
}

/**
 * Errors from the HTTP parser, before any request exists (a malformed request line or header,
 * headers too large, a timeout): answered on the raw socket, in the same shape.
 */
export function clientErrorResponse(error: NodeJS.ErrnoException): string | undefined {
  if (error.code === 'ECONNRESET') return undefined;
  const [status, reason, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request took too long to arrive']
        : [400, 'Bad Request', 'the request is not valid HTTP'];
  const body = JSON.stringify({ code: codeForStatus(status), message } satisfies ErrorBody);
  return [
    `HTTP/1.1 ${status} ${reason}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * A Fastify error handler: the status and public body of `httpErrorBody`, a log line for 5xx,
 * and the body sent as `envelope` wraps it (as is, by default).
 */
export function httpErrorHandler(
  bodyLimit: number,
  envelope: (status: number, body: ErrorBody) => unknown = (_status, body) => body,
) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = httpErrorBody(error, bodyLimit, request.headers['content-type']);
    if (status >= 500) request.log.error({ err: error }, 'unhandled error');
    return reply.code(status).type('application/json').send(envelope(status, body));
  };
}

export function registerHttpErrorHandlers(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler(httpErrorHandler(bodyLimit));
  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split('?')[0] ?? '').slice(0, 200);
    return reply.code(404).send({
      code: 'NOT_FOUND',
      message: `no route for ${request.method} ${path}`,
    } satisfies ErrorBody);
  });
}
