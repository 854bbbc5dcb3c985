import type { CreateRequestInput } from '../domain/charging-session-request.ts';
import { replayedRequestId, requestFingerprint } from '../domain/idempotency.ts';
import type { GroupCommit } from './group-commit.ts';
import type { IdempotencyKeyQueries, StoredKey } from './idempotency-keys.ts';
import { newRequestId } from './request-ids.ts';
import type { RequestQueries } from './requests.ts';

/**
 * Taking in a charging session request: the row (and its idempotency key) is committed through
 * the group commit before the promise resolves, so an acknowledgement always names a stored row.
 */

export type Intake = {
  submit(input: CreateRequestInput, idempotencyKey?: string): Promise<IntakeResult>;
};

export type IntakeResult = { requestId: string; replayed: boolean };

export type IntakeDeps = {
  groupCommit: GroupCommit;
  requests: RequestQueries;
  idempotencyKeys: IdempotencyKeyQueries;
  now: () => number;
  /** Called after each commit that stored a new request. */
  onCommitted?: () => void;
};

type Committed = StoredKey & { created: boolean };

function replay(key: string, stored: StoredKey, fingerprint: string): IntakeResult {
  return { requestId: replayedRequestId(key, stored, fingerprint), replayed: true };
}

export function createIntake({
  groupCommit,
  requests,
  idempotencyKeys,
  now,
  onCommitted,
}: IntakeDeps): Intake {
  /** Keys whose first request is waiting for its commit; a second use waits for the first. */
  const inFlight = new Map<string, Promise<Committed>>();

  function commit(input: CreateRequestInput, key: string | undefined, fingerprint: string) {
    const id = newRequestId();
    const createdAt = now();
    return groupCommit.run((): Committed => {
      // Inside the IMMEDIATE transaction no other writer runs, so check-then-insert is safe.
      if (key !== undefined) {
        const stored = idempotencyKeys.findLive(key, createdAt);
        if (stored) return { ...stored, created: false };
      }
      requests.insert({ id, ...input, createdAt });
      if (key !== undefined) idempotencyKeys.save(key, fingerprint, id, createdAt);
      return { requestId: id, fingerprint, created: true };
    });
  }

  return {
    async submit(input, key) {
      const fingerprint = key === undefined ? '' : requestFingerprint(input);
      if (key !== undefined) {
        const earlier = inFlight.get(key);
        if (earlier) {
          const first = await earlier.catch(() => undefined);
          if (first) return replay(key, first, fingerprint);
        }
        const stored = idempotencyKeys.findLive(key, now());
        if (stored) return replay(key, stored, fingerprint);
      }

      const pending = commit(input, key, fingerprint);
      if (key !== undefined) inFlight.set(key, pending);
      try {
        const committed = await pending;
        if (!committed.created) return replay(key as string, committed, fingerprint);
        onCommitted?.();
        return { requestId: committed.requestId, replayed: false };
      } finally {
        if (key !== undefined && inFlight.get(key) === pending) inFlight.delete(key);
      }
    },
  };
}
