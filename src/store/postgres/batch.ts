/**
 * Group commit for PostgreSQL: what is submitted in one turn of the event loop goes to the
 * database as one batch (one transaction, a few statements over arrays), and each promise settles
 * with its own result once that batch has committed, or with the batch's error.
 */
export type Batch<I, O> = {
  submit(item: I): Promise<O>;
  /** Resolves once everything submitted so far has settled. */
  flush(): Promise<void>;
};

type Pending<I, O> = { item: I; resolve: (value: O) => void; reject: (error: unknown) => void };

export function createBatch<I, O>(
  run: (items: I[]) => Promise<O[]>,
  onBatch?: (size: number) => void,
  onFailure?: (error: unknown) => void,
): Batch<I, O> {
  let queue: Pending<I, O>[] = [];
  let scheduled = false;
  const running = new Set<Promise<void>>();

  async function runQueued(): Promise<void> {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    try {
      const results = await run(batch.map((pending) => pending.item));
      onBatch?.(batch.length);
      batch.forEach((pending, index) => {
        pending.resolve(results[index] as O);
      });
    } catch (error) {
      onFailure?.(error);
      for (const pending of batch) pending.reject(error);
    }
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      const done = runQueued();
      running.add(done);
      void done.finally(() => running.delete(done));
    });
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    async flush() {
      if (queue.length > 0) {
        const done = runQueued();
        running.add(done);
        void done.finally(() => running.delete(done));
      }
      await Promise.allSettled([...running]);
    },
  };
}
