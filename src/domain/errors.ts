/**
 * The closed set of errors the service raises on purpose. Each boundary maps them once:
 * the api layer to tRPC codes and HTTP statuses, the CLI to messages and exit codes.
 */

export const DOMAIN_ERRORS = {
  REQUEST_NOT_FOUND: 'REQUEST_NOT_FOUND',
  DRIVER_NOT_FOUND: 'DRIVER_NOT_FOUND',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  INVALID_IDEMPOTENCY_KEY: 'INVALID_IDEMPOTENCY_KEY',
  INVALID_CURSOR: 'INVALID_CURSOR',
} as const;

export type DomainErrorCode = keyof typeof DOMAIN_ERRORS;

export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: 'request' | 'driver', id: string) =>
  new DomainError(
    what === 'request' ? 'REQUEST_NOT_FOUND' : 'DRIVER_NOT_FOUND',
    `no ${what === 'request' ? 'charging session request' : 'driver'} with id ${id}`,
  );
