import type { CreateRequestInput } from '../../domain/charging-session-request.ts';
import { newRequestId } from '../../domain/request-ids.ts';
import { oneCreatePerKey } from '../in-flight-keys.ts';
import type { CreateOutcome, IdempotencyClaim } from '../store.ts';
import type { GroupCommit } from './group-commit.ts';
import type { IdempotencyKeyQueries } from './idempotency-keys.ts';
import type { RequestQueries } from './requests.ts';

/**
 * Taking in a charging session request on SQLite: the row (and its idempotency key) is committed
 * through the group commit before the promise resolves, so an acknowledgement always names a
 * stored row.
 */

export type IntakeDeps = {
  groupCommit: GroupCommit;
  requests: RequestQueries;
  idempotencyKeys: IdempotencyKeyQueries;
  now: () => number;
  /** Called after each commit that stored a new request. */
  onCreated: () => void;
};

export function createIntake({
  groupCommit,
  requests,
  idempotencyKeys,
  now,
  onCreated,
}: IntakeDeps) {
  async function create(
    input: CreateRequestInput,
    idempotency?: IdempotencyClaim,
  ): Promise<CreateOutcome> {
    // A replay answers from the stored key without waiting for a commit.
    const stored = idempotency && idempotencyKeys.findLive(idempotency.key, now());
    if (stored) return { created: false, ...stored };

    const id = newRequestId();
    const createdAt = now();
    const outcome = await groupCommit.run((): CreateOutcome => {
      // Inside the IMMEDIATE transaction no other writer runs, so check-then-insert is safe.
      if (idempotency) {
        const live = idempotencyKeys.findLive(idempotency.key, createdAt);
        if (live) return { created: false, ...live };
      }
      requests.insert({ id, ...input, createdAt });
      if (idempotency) {
        idempotencyKeys.save(idempotency.key, idempotency.fingerprint, id, createdAt);
      }
      return { created: true, requestId: id };
    });
    if (outcome.created) onCreated();
    return outcome;
  }

  return { create: oneCreatePerKey(create) };
}
