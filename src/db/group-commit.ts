import type { Database } from './database.ts';

/**
 * Group commit: work submitted in the same turn of the event loop runs in one IMMEDIATE
 * transaction, so concurrent requests share one commit (one fsync). Each promise settles only
 * after that commit. If the transaction fails, every piece of work in it is rejected and none of
 * it is kept: an acknowledgement is never sent for a row that was not committed.
 */
export type GroupCommit = {
  /** Runs `work` inside the next batch's transaction; resolves with its result after commit. */
  run<T>(work: () => T): Promise<T>;
  /** Commits whatever is queued now, then resolves. */
  flush(): Promise<void>;
  /** How many pieces of work wait for the next commit. */
  readonly queued: number;
  /**
   * Adds work to the end of every batch's transaction. What the hook returns runs right after
   * that batch commits (and not at all if it fails). A hook must not throw.
   */
  addHook(hook: BatchHook): void;
};

export type BatchHook = () => (() => void) | undefined;

type Item = {
  work: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
};

export type GroupCommitOptions = {
  db: Database;
  /** Called with the size of each committed batch. */
  onBatch?: (size: number) => void;
};

export function createGroupCommit({ db, onBatch }: GroupCommitOptions): GroupCommit {
  let queue: Item[] = [];
  let scheduled: Promise<void> | undefined;
  const hooks: BatchHook[] = [];

  const commit = db.$client.transaction((batch: Item[]) => ({
    results: batch.map((item) => item.work()),
    afterCommit: hooks.map((hook) => hook()),
  }));

  function commitQueued(): void {
    scheduled = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    let committed: ReturnType<typeof commit>;
    try {
      committed = commit.immediate(batch);
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    onBatch?.(batch.length);
    batch.forEach((item, index) => {
      item.resolve(committed.results[index]);
    });
    for (const after of committed.afterCommit) after?.();
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
    addHook(hook) {
      hooks.push(hook);
    },
  };
}
