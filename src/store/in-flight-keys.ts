import type { CreateRequestInput } from '../domain/charging-session-request.ts';
import type { CreateOutcome, IdempotencyClaim } from './store.ts';

type Create = (input: CreateRequestInput, idempotency?: IdempotencyClaim) => Promise<CreateOutcome>;

/**
 * One use of a key in flight per instance: a second create with a key whose first create has not
 * committed yet waits for it and answers it again, instead of racing it into the same commit.
 * Across instances the database decides (a unique key); this only keeps one instance's batches
 * free of duplicate keys.
 */
export function oneCreatePerKey(create: Create): Create {
  const inFlight = new Map<string, { fingerprint: string; outcome: Promise<CreateOutcome> }>();

  return async (input, idempotency) => {
    if (!idempotency) return create(input);
    const earlier = inFlight.get(idempotency.key);
    if (earlier) {
      const first = await earlier.outcome.catch(() => undefined);
      if (first) {
        const fingerprint = first.created ? earlier.fingerprint : first.fingerprint;
        return { created: false, requestId: first.requestId, fingerprint };
      }
    }
    const entry = { fingerprint: idempotency.fingerprint, outcome: create(input, idempotency) };
    inFlight.set(idempotency.key, entry);
    try {
      return await entry.outcome;
    } finally {
      if (inFlight.get(idempotency.key) === entry) inFlight.delete(idempotency.key);
    }
  };
}
