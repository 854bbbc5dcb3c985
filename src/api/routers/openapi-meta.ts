/** Error responses documented in the OpenAPI file, by status. */
export const ERRORS = {
  400: 'Invalid input: the message and issues name each offending field',
  401: 'Missing or wrong Authorization: Bearer <ADMIN_TOKEN>',
  404: 'Not found',
  408: 'The request (headers and body) did not arrive within REQUEST_TIMEOUT_MS; the connection is closed',
  413: 'Request body larger than 16 KiB',
  415: 'Content-Type is not application/json',
  422: 'Idempotency-Key already used with a different body',
  500: 'Internal server error',
  503: 'Not accepted now (e.g. the server is shutting down); retry later or on another instance',
} as const;

type Status = keyof typeof ERRORS;

export const errorResponses = (...statuses: Status[]): Record<number, string> =>
  Object.fromEntries(statuses.map((status) => [status, ERRORS[status]]));
