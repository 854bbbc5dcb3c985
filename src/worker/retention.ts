import type { Logger } from 'pino';
import type { RetentionStore } from '../store/store.ts';

/**
 * Retention: delivered and failed requests older than `RETENTION_DAYS` (with their attempts) and
 * idempotency keys older than 24 h are deleted a small batch at a time, each batch its own short
 * transaction, so acknowledgements are never held up behind a large delete.
 */

export const RETENTION_BATCH = 500;
const DAY_MS = 24 * 60 * 60 * 1000;

export type RetentionDeps = {
  store: RetentionStore;
  retentionDays: number;
  now: () => number;
  log: Logger;
  /** Pause between sweeps once nothing is left to delete. */
  intervalMs?: number;
};

export type Retention = {
  start(): void;
  /** Runs one batch of deletes; answers how many rows went. */
  sweepBatch(): Promise<number>;
  stop(): void;
};

export function createRetention({
  store,
  retentionDays,
  now,
  log,
  intervalMs = 60_000,
}: RetentionDeps): Retention {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let deletedThisSweep = 0;

  function sweepBatch(): Promise<number> {
    return store.sweep(now() - retentionDays * DAY_MS, RETENTION_BATCH);
  }

  async function step(): Promise<void> {
    timer = undefined;
    if (stopped) return;
    let delay = intervalMs;
    try {
      const deleted = await sweepBatch();
      deletedThisSweep += deleted;
      // A full batch means more is waiting: continue on the next turn, after pending I/O.
      if (deleted >= RETENTION_BATCH) delay = 0;
      else if (deletedThisSweep > 0) {
        log.info({ deleted: deletedThisSweep }, 'retention sweep done');
        deletedThisSweep = 0;
      }
    } catch (error) {
      log.error({ err: error }, 'retention sweep failed; trying again later');
      deletedThisSweep = 0;
    }
    if (!stopped) timer = setTimeout(step, delay);
  }

  return {
    start() {
      if (timer || stopped) return;
      timer = setTimeout(step, 0);
    },
    sweepBatch,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
