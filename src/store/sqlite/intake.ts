import type { CreateRequestInput } from '../../domain/charging-session-request.ts';
import { IDEMPOTENCY_KEY_TTL_MS } from '../../domain/idempotency.ts';
import { newRequestId } from '../../domain/request-ids.ts';
import { oneCreatePerKey } from '../in-flight-keys.ts';
import type { CreateOutcome, IdempotencyClaim } from '../store.ts';
import type { Writer } from './batching-writer.ts';
import type { IdempotencyKeyQueries } from './idempotency-keys.ts';
import { createArgs } from './writes.ts';

/**
 * Taking in a charging session request on SQLite: the row (and its idempotency key) is committed
 * by the writer before the promise resolves, so an acknowledgement always names a stored row.
 */

export type IntakeDeps = {
  writer: Writer;
  idempotencyKeys: IdempotencyKeyQueries;
  now: () => number;
  /** Called after each commit that stored a new request. */
  onCreated: () => void;
};

export function createIntake({ writer, idempotencyKeys, now, onCreated }: IntakeDeps) {
  async function create(
    input: CreateRequestInput,
    idempotency?: IdempotencyClaim,
  ): Promise<CreateOutcome> {
    // A replay answers from the stored key without waiting for a commit.
    const stored = idempotency && idempotencyKeys.findLive(idempotency.key, now());
    if (stored) return { created: false, ...stored };

    const createdAt = now();
    const liveSince = createdAt - IDEMPOTENCY_KEY_TTL_MS;
    const outcome = await writer.run(
      'create',
      createArgs(newRequestId(), input, createdAt, liveSince, idempotency),
    );
    if (outcome.created) onCreated();
    return outcome;
  }

  return { create: oneCreatePerKey(create) };
}
