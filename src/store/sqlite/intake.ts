import type { CreateRequestInput } from '../../domain/charging-session-request.ts';
import { newRequestId } from '../../domain/request-ids.ts';
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
  /** Keys whose first request is waiting for its commit; a second use waits for the first. */
  const inFlight = new Map<string, { fingerprint: string; outcome: Promise<CreateOutcome> }>();

  function commit(input: CreateRequestInput, idempotency: IdempotencyClaim | undefined) {
    const id = newRequestId();
    const createdAt = now();
    return groupCommit.run((): CreateOutcome => {
      // Inside the IMMEDIATE transaction no other writer runs, so check-then-insert is safe.
      if (idempotency) {
        const stored = idempotencyKeys.findLive(idempotency.key, createdAt);
        if (stored) return { created: false, ...stored };
      }
      requests.insert({ id, ...input, createdAt });
      if (idempotency) {
        idempotencyKeys.save(idempotency.key, idempotency.fingerprint, id, createdAt);
      }
      return { created: true, requestId: id };
    });
  }

  async function create(
    input: CreateRequestInput,
    idempotency?: IdempotencyClaim,
  ): Promise<CreateOutcome> {
    if (idempotency) {
      const earlier = inFlight.get(idempotency.key);
      if (earlier) {
        const first = await earlier.outcome.catch(() => undefined);
        if (first) {
          const fingerprint = first.created ? earlier.fingerprint : first.fingerprint;
          return { created: false, requestId: first.requestId, fingerprint };
        }
      }
      const stored = idempotencyKeys.findLive(idempotency.key, now());
      if (stored) return { created: false, ...stored };
    }

    const pending = commit(input, idempotency);
    const entry = idempotency && { fingerprint: idempotency.fingerprint, outcome: pending };
    if (idempotency && entry) inFlight.set(idempotency.key, entry);
    try {
      const outcome = await pending;
      if (outcome.created) onCreated();
      return outcome;
    } finally {
      if (idempotency && inFlight.get(idempotency.key) === entry) inFlight.delete(idempotency.key);
    }
  }

  return { create };
}
