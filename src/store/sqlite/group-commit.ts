import type { Database } from './database.ts';

/**
 * Group commit: work submitted in the same turn of the event loop runs in one IMMEDIATE
 * transaction, so concurrent requests share one commit (one fsync). Each promise settles only
 * after that commit: an acknowledgement is never sent for a row that was not committed.
 * Each piece of work runs in a savepoint of its own: one that throws is rolled back and rejected
 * alone, and the others in the batch still commit. If the commit itself fails, every piece of
 * the batch is rejected and none of it is kept.
 */
export type GroupCommit = {
  /** Runs `work` inside the next batch's transaction; resolves with its result after commit. */
  run<T>(work: () => T): Promise<T>;
  /** Commits whatever is queued now, then resolves. */
  flush(): Promise<void>;
  /** How many pieces of work wait for the next commit. */
  readonly queued: number;
};

type Item = {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
};

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

export type GroupCommitOptions = {
  db: Database;
  /** Called with the size of each committed batch. */
  onBatch?: (size: number) => void;
  /** Called with the error of each batch whose transaction could not commit. */
  onFailure?: (error: unknown) => void;
  /** Runs before each batch; throwing refuses the whole batch (nothing of it is written). */
  beforeCommit?: () => void;
};

export function createGroupCommit({
  db,
  onBatch,
  onFailure,
  beforeCommit,
}: GroupCommitOptions): GroupCommit {
  let queue: Item[] = [];
  let scheduled: Promise<void> | undefined;

  // Nested inside `commit`, better-sqlite3 runs each item as a SAVEPOINT.
  const inSavepoint = db.$client.transaction((work: () => unknown) => work());
  const commit = db.$client.transaction((batch: Item[]): Settled[] =>
    batch.map((item) => {
      try {
        return { ok: true, value: inSavepoint(item.work) };
      } catch (error) {
        return { ok: false, error };
      }
    }),
  );

  function commitQueued(): void {
    scheduled = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    let settled: Settled[];
    try {
      beforeCommit?.();
      settled = commit.immediate(batch);
    } catch (error) {
      onFailure?.(error);
      for (const item of batch) item.reject(error);
      return;
    }
    onBatch?.(batch.length);
    batch.forEach((item, index) => {
      const outcome = settled[index] as Settled;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  function schedule(): Promise<void> {
    scheduled ??= new Promise((resolve) => {
      setImmediate(() => {
        commitQueued();
        resolve();
      });
    });
    return scheduled;
  }

  return {
    run<T>(work: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
        void schedule();
      });
    },
    flush() {
      return queue.length === 0 ? (scheduled ?? Promise.resolve()) : schedule();
    },
    get queued() {
      return queue.length;
    },
  };
}
