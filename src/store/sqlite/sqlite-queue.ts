import type { Claim } from '../../domain/request-record.ts';
import { guardMethods } from '../errors.ts';
import type { QueueStore } from '../store.ts';
import type { Writer } from './batching-writer.ts';
import { isTransientSqliteError } from './transient-errors.ts';
import { type ClaimRef, claimResults, finishArgs } from './writes.ts';

/**
 * The worker's queue on SQLite, on a writer: every claim, decision, attempt record and release —
 * and the two reads of the worker's loop — runs in the writer's transactions, so a claim shares
 * its commit with the acknowledgements and attempt records around it. The same on the main
 * thread's writer and on a port writer in the worker's own thread.
 */
export function createSqliteQueue(writer: Writer, now: () => number): QueueStore {
  /** What a write under a claim sends to the writer: not the whole record. */
  const claimRef = ({ id, owner, token }: Claim): ClaimRef => ({ id, owner, token });
  return guardMethods(
    {
      claimDue: async (options) =>
        claimResults(await writer.run('claimDue', { options, now: now() })),
      saveDecision: (claim, decision, decidedAt, leaseMs) =>
        writer.run('saveDecision', {
          claim: claimRef(claim),
          decision,
          decidedAt,
          lockedUntil: decidedAt + leaseMs,
        }),
      finishAttempt: (claim, record, step) =>
        writer.run('finishAttempt', finishArgs(claim, record, step)),
      release: async (claim) => {
        await writer.run('release', { claim: claimRef(claim) });
      },
      releaseAll: (owner) => writer.run('releaseAll', { owner }),
      claimOwners: () => writer.run('claimOwners', { now: now() }),
      nextDueAfter: (at) => writer.run('nextDueAfter', { at }),
    },
    isTransientSqliteError,
  );
}
