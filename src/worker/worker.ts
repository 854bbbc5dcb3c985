import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { RequestRow } from '../db/requests.ts';
import { maskDriverId } from '../log-redaction.ts';
import { type ProcessDeps, processCallback } from './process-callback.ts';

/**
 * The callback worker: `while (!stopping) { claim due work → handle it → sleep }`.
 * It sleeps until the next callback is due, a poll interval passes (the backstop that finds
 * expired leases and other processes' work), `wake()` is called (a request was committed here),
 * or a slot frees up. Errors are caught inside the loop, which then waits a poll interval, so
 * it never spins on a failing database.
 */

export type Worker = {
  start(): void;
  /** Wakes the loop: callbacks became due in this process. */
  wake(): void;
  /**
   * Stops claiming, lets attempts in flight finish for up to `graceMs`, aborts the rest and
   * releases their claims so another process (or the next start) sends them. Idempotent.
   */
  stop(graceMs: number): Promise<void>;
  readonly running: boolean;
  readonly inFlight: number;
};

export type WorkerDeps = Omit<ProcessDeps, 'owner'> & {
  concurrency: number;
  pollIntervalMs: number;
  /** True while HTTP traffic saturates the process: callbacks then take a small share. */
  underPressure?: () => boolean;
};

/** Under pressure the worker keeps at most 1/PRESSURE_SHARE of its concurrency in flight… */
export const PRESSURE_SHARE = 8;
/** …and claims at most once per this many milliseconds, so deliveries go on, slower. */
export const PRESSURE_PAUSE_MS = 20;

/**
 * Where process ids mean the same thing: this host name and this pid namespace. Two containers
 * may share a host name (or both run as pid 1) without seeing each other's processes.
 */
export function pidSpace(): string {
  let namespace = 'unknown';
  try {
    namespace = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? namespace;
  } catch {}
  return `${hostname()}/${namespace}`;
}

/** `<host>/<pid namespace>:<pid>:<random>`: unique per worker, and says where it ran. */
export function newWorkerId(): string {
  return `${pidSpace()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

function isAlive(pid: number): boolean {
  try {
    // A killed process whose parent is gone too can linger as a zombie until it is reaped.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
  } catch {}
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a claim's owner is known to be gone: a process on this host that no longer runs, or an
 * earlier process with our own pid (a container restarted as pid 1). Claims of anyone else are
 * left to expire.
 */
export function isDeadLocalOwner(owner: string, self: string): boolean {
  const [space, pidText] = owner.split(':');
  const pid = Number(pidText);
  if (owner === self || space !== pidSpace() || !Number.isInteger(pid) || pid <= 0) return false;
  return pid === process.pid || !isAlive(pid);
}

export function createWorker(deps: WorkerDeps): Worker {
  const owner = newWorkerId();
  const processDeps: ProcessDeps = { ...deps, owner };
  const { requests, log, concurrency, pollIntervalMs } = deps;

  const inFlight = new Set<Promise<void>>();
  const { decideNow } = deps.authorizer;
  const decideOnClaim = decideNow
    ? (row: RequestRow) => {
        const decision = decideNow({
          requestId: row.id,
          stationId: row.stationId,
          driverId: row.driverId,
        });
        deps.metrics?.decisions.inc({
          status: decision.status,
          source: decision.source,
          reason: decision.reason,
        });
        return decision;
      }
    : undefined;
  const abort = new AbortController();
  let running = false;
  let stopping = false;
  let woken = false;
  let wakeSleeper: (() => void) | undefined;
  let endPause: (() => void) | undefined;
  let loopClaiming = false;
  let loopDone: Promise<void> = Promise.resolve();
  let stopped: Promise<void> | undefined;

  function wake(): void {
    woken = true;
    wakeSleeper?.();
  }

  function sleep(ms: number): Promise<void> {
    if (woken || stopping) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        wakeSleeper = undefined;
        woken = false;
        resolve();
      }
      wakeSleeper = done;
    });
  }

  /** How many more callbacks may start now, and whether HTTP traffic presses. */
  function room(): { pressed: boolean; capacity: number } {
    const pressed = deps.underPressure?.() ?? false;
    const limit = pressed ? Math.max(1, Math.floor(concurrency / PRESSURE_SHARE)) : concurrency;
    return { pressed, capacity: limit - inFlight.size };
  }

  /**
   * Claims up to `limit` due callbacks; runs inside a group-commit transaction. A failure is
   * returned, not thrown: its statement is rolled back and the acknowledgements committed in the
   * same transaction are unaffected.
   */
  function claim(now: number, limit: number): { rows: RequestRow[]; error?: unknown } {
    try {
      const rows = requests.claimDue(owner, now, now + deps.leaseMs, limit, decideOnClaim);
      if (rows.length > 0) deps.metrics?.claimBatchSize.observe(rows.length);
      return { rows };
    } catch (error) {
      return { rows: [], error };
    }
  }

  /**
   * At the end of every batch that commits new requests (or anything else), claim what is due in
   * the same transaction, so a new request is decided and claimed by the commit that stores it
   * and its callback starts as soon as that commit is done. Skipped while the loop has a claim of
   * its own in the batch, which already took the free slots.
   */
  deps.groupCommit.addHook(() => {
    if (!running || stopping || loopClaiming) return undefined;
    const { capacity } = room();
    if (capacity <= 0) return undefined;
    const { rows, error } = claim(deps.now(), capacity);
    if (error) log.error({ err: error }, 'claim at commit failed; the worker loop claims instead');
    if (rows.length === 0) return undefined;
    return () => {
      for (const row of rows) track(row);
    };
  });

  /** A pause that wake() does not cut short; stop() does. */
  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        endPause = undefined;
        resolve();
      }
      endPause = done;
    });
  }

  async function handle(row: RequestRow): Promise<void> {
    try {
      await processCallback(processDeps, row, abort.signal);
    } catch (error) {
      if (abort.signal.aborted) return; // released by stop()
      log.error(
        { err: error, requestId: row.id, driverId: maskDriverId(row.driverId) },
        'callback handling failed; it is retried when its claim is released or expires',
      );
      try {
        requests.release(row.id, owner);
      } catch {}
    }
  }

  function track(row: RequestRow): void {
    const job = handle(row).finally(() => {
      inFlight.delete(job);
      wake();
    });
    inFlight.add(job);
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        const { pressed, capacity } = room();
        let delay = pollIntervalMs;
        if (capacity > 0) {
          const now = deps.now();
          // Through the group commit: the claim shares its commit with the acknowledgements and
          // attempt records of the same turn of the event loop.
          loopClaiming = true;
          const claimed = await deps.groupCommit
            .run(() => claim(now, capacity))
            .finally(() => {
              loopClaiming = false;
            });
          if (claimed.error) throw claimed.error;
          const { rows } = claimed;
          if (stopping) {
            // stop() began while this claim was committing: give the rows back, unsent.
            for (const row of rows) requests.release(row.id, owner);
            break;
          }
          for (const row of rows) track(row);
          if (pressed) {
            await pause(PRESSURE_PAUSE_MS);
            continue;
          }
          if (rows.length === capacity) {
            // There may be more due work: claim again once a slot frees (track wakes us).
            woken = false;
          } else {
            const next = requests.nextDueAfter(now);
            if (next !== null) delay = Math.min(delay, next - now);
          }
        }
        await sleep(delay);
      } catch (error) {
        log.error({ err: error }, 'worker loop failed; trying again after the poll interval');
        woken = false;
        await sleep(pollIntervalMs);
      }
    }
  }

  return {
    start() {
      if (running || stopping) return;
      running = true;
      // Work a killed process on this machine had claimed is due now, not when its lease ends.
      for (const stale of requests
        .claimOwners(deps.now())
        .filter((o) => isDeadLocalOwner(o, owner))) {
        const released = requests.releaseAll(stale);
        log.info({ owner: stale, released }, 'released the claims of a process that is gone');
      }
      loopDone = loop();
    },
    wake,
    stop(graceMs) {
      stopped ??= (async () => {
        stopping = true;
        wake();
        endPause?.();
        await loopDone;
        const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
        await Promise.race([Promise.allSettled([...inFlight]), grace]);
        if (inFlight.size > 0) {
          log.warn({ inFlight: inFlight.size }, 'aborting callback attempts still in flight');
          abort.abort(new Error('worker stopping'));
          // Ends every connection in flight at once; their attempts are not recorded.
          await deps.dispatcher.destroy();
          await Promise.allSettled([...inFlight]);
        }
        // Whatever is still claimed was not finished here: give it back.
        await deps.groupCommit.flush();
        const released = requests.releaseAll(owner);
        if (released > 0) log.info({ released }, 'released unfinished claims');
        running = false;
      })();
      return stopped;
    },
    get running() {
      return running && !stopping;
    },
    get inFlight() {
      return inFlight.size;
    },
  };
}
