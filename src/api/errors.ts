import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { type ZodError, z } from 'zod';
import { DomainError, type DomainErrorCode } from '../domain/errors.ts';

/**
 * Errors at the api boundary: domain errors become tRPC errors here, once, and every error
 * becomes the body `{ code, message, issues? }`. Internal messages and stacks never leave.
 */

export const errorIssueSchema = z.object({
  path: z
    .array(z.union([z.string(), z.number()]))
    .meta({ description: 'Where in the input, e.g. ["driverId"]' }),
  message: z.string().meta({ description: 'What is wrong there, naming the field' }),
});

export type ErrorIssue = z.infer<typeof errorIssueSchema>;
export type ErrorBody = { code: TRPC_ERROR_CODE_KEY; message: string; issues?: ErrorIssue[] };

const DOMAIN_TO_TRPC: Record<DomainErrorCode, TRPC_ERROR_CODE_KEY> = {
  REQUEST_NOT_FOUND: 'NOT_FOUND',
  DRIVER_NOT_FOUND: 'NOT_FOUND',
  IDEMPOTENCY_KEY_REUSED: 'UNPROCESSABLE_CONTENT',
  INVALID_IDEMPOTENCY_KEY: 'BAD_REQUEST',
  INVALID_CURSOR: 'BAD_REQUEST',
};

export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

export function toTRPCError(error: DomainError): TRPCError {
  return new TRPCError({ code: DOMAIN_TO_TRPC[error.code], message: error.message, cause: error });
}

function zodCause(error: TRPCError): ZodError | undefined {
  return error.cause instanceof z.ZodError ? error.cause : undefined;
}

export function issuesOf(zodError: ZodError): ErrorIssue[] {
  return zodError.issues.map((issue) => ({
    path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
    message: issue.message,
  }));
}

/** The public body of a tRPC error. */
export function errorBody(error: TRPCError): ErrorBody {
  if (error.code === 'INTERNAL_SERVER_ERROR') {
    return { code: error.code, message: INTERNAL_ERROR_MESSAGE };
  }
  // The JSON parser's own wording (tokens, positions) is an internal message.
  if (error.code === 'PARSE_ERROR' || error.cause instanceof SyntaxError) {
    return { code: error.code, message: 'the request body or input is not valid JSON' };
  }
  const invalid = error.code === 'BAD_REQUEST' ? zodCause(error) : undefined;
  if (invalid) {
    const issues = issuesOf(invalid);
    return {
      code: error.code,
      message: `Invalid input: ${issues.map((i) => i.message).join('; ')}`,
      issues,
    };
  }
  return { code: error.code, message: error.message };
}

export const httpStatusOf = (error: TRPCError): number => getHTTPStatusCodeFromError(error);

export { DomainError };
