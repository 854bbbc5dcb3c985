import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CreateRequestInput } from './charging-session-request.ts';
import { DomainError } from './errors.ts';

/**
 * Idempotency keys on create: which keys are acceptable, when two bodies are "the same", and
 * what a replay answers. Storage lives in `db/`.
 */

/** A key answers its first request again for this long after first use. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1, 'Idempotency-Key must not be empty')
    .max(255, 'Idempotency-Key must be at most 255 characters')
    .regex(/^[\x20-\x7e]+$/, 'Idempotency-Key may only contain printable ASCII characters')
    .optional()
    .meta({
      description:
        'Makes the create safe to retry: the same key with the same body within 24 h answers the first response again and creates nothing.',
    }),
});

/** Two bodies are the same request when their fields are; station ids compare in any case. */
export function requestFingerprint(input: CreateRequestInput): string {
  return createHash('sha256')
    .update(JSON.stringify([input.stationId.toLowerCase(), input.driverId, input.callbackUrl]))
    .digest('base64url');
}

/** The request a key already names, if `fingerprint` matches the body it was first used with. */
export function replayedRequestId(
  key: string,
  stored: { requestId: string; fingerprint: string },
  fingerprint: string,
): string {
  if (stored.fingerprint !== fingerprint) {
    throw new DomainError(
      'IDEMPOTENCY_KEY_REUSED',
      `Idempotency-Key "${key}" was already used with a different request body`,
    );
  }
  return stored.requestId;
}
