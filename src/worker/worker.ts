import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { callbackOriginOf } from '../domain/callback-origin.ts';
import type { Claim } from '../domain/request-record.ts';
import { maskDriverId } from '../log-redaction.ts';
import { type BreakerOptions, DEFAULT_BREAKER, verdictOf } from './circuit-breaker.ts';
import { controllerBounds, createDeliveryController } from './delivery-controller.ts';
import { type BreakerChange, createOriginGate, type Ticket } from './origin-gate.ts';
import { type ProcessDeps, type Processed, processCallback } from './process-callback.ts';

/**
 * The callback worker: `while (!stopping) { claim due work → hand it off → sleep }`.
 * It sleeps until the next callback is due, a poll interval passes (the backstop that finds
 * expired leases and other instances' work), `wake()` is called (requests were committed), or
 * enough slots free up to be worth a claim. Errors are caught inside the loop, which then waits a
 * poll interval, so it never spins on a failing database.
 *
 * A claim takes more than the free slots: the rest waits here, claimed, and starts the moment a
 * slot frees, so a claim's round trip to the database overlaps the attempts in flight instead of
 * stalling the slots, and claims come in batches rather than one per freed slot.
 *
 * How much it sends at once is set by the delivery controller (`delivery-controller.ts`); where
 * it sends is kept fair by the origin gate (`origin-gate.ts`): a claim passes over origins at
 * their cap or held by their breaker, so one bad receiver never fills the worker's slots.
 */

export type Worker = {
  start(): void;
  /** Wakes the loop: callbacks became due. */
  wake(): void;
  /**
   * Stops claiming, lets attempts in flight finish for up to `graceMs`, aborts the rest and
   * releases their claims so another instance (or the next start) sends them. Idempotent.
   */
  stop(graceMs: number): Promise<void>;
  readonly running: boolean;
};

export type WorkerDeps = ProcessDeps & {
  concurrency: number;
  /**
   * How long after its claim a callback may still start: its lease must outlast the longest
   * attempt that starts then. Later, it is given back unsent and claimed again.
   */
  startWithinMs: number;
  /** Attempts in flight to one callback origin at most (CALLBACK_CONCURRENCY_PER_ORIGIN). */
  perOriginConcurrency: number;
  breaker?: BreakerOptions;
  pollIntervalMs: number;
  /** True while HTTP traffic saturates the process: the delivery controller then backs off. */
  underPressure?: () => boolean;
  /**
   * How busy the worker's own thread was since the last call (0–1), where it runs in one: under
   * pressure the delivery controller keeps it within a budget.
   */
  busy?: () => number;
  /** Lateness of due callbacks at which the worker takes its whole concurrency regardless. */
  fullLagMs?: number;
};

/**
 * The most callbacks one claim takes, whatever WORKER_CONCURRENCY is: a claim is one statement
 * in the writer's transaction, and its rows cross to the main thread at once.
 */
export const MAX_CLAIM = 256;

/** Under pressure the worker claims at most once per this many milliseconds: batched claims. */
export const PRESSURE_PAUSE_MS = 20;

/**
 * A claim made while some origins have no room (at their cap, or held by their breaker) reads past
 * their due rows to reach those of other origins: one read of each row. Behind one receiver's cap
 * with 130,000 of its callbacks due, such a claim took about 30 ms of the writer's time, and every
 * commit of new requests asked for one (bench/README.md). So after one, the next waits this many
 * times as long as it took (at most the poll interval): such reads take at most about 1/21 of the
 * time, and a callback to another origin waits at most that long behind them. Claims made while
 * every origin has room are not held back.
 */
export const PASS_OVER_PAUSE_FACTOR = 20;

/**
 * How many callbacks beyond its free slots a claim takes, for `slots` slots: twice as many. The
 * claimed callbacks waiting here must outlast the next claim's round trip, or the slots stand
 * idle until it commits. Against a fast receiver 32 slots finish a callback every 0.1 ms, and a
 * claim on PostgreSQL (a transaction of two statements) takes 10–20 ms under load; with half as
 * many waiting, the slots stood idle for most of each claim (bench/README.md).
 *
 * Under pressure, half as many: claims are then paced (PRESSURE_PAUSE_MS) and acknowledgements
 * come first, and larger claims would only put more of the worker's writes in their way.
 */
const lookaheadOf = (slots: number, pressed: boolean) =>
  pressed ? Math.ceil(slots / 2) : slots * 2;

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

/** Claimed and not yet started: it starts as soon as a slot and its origin allow. */
type Waiting = { claim: Claim; decidedNow: boolean; origin: string; startBy: number };

export function createWorker(deps: WorkerDeps): Worker {
  const owner = newWorkerId();
  const { queue, log, metrics, concurrency, pollIntervalMs, leaseMs } = deps;
  const decideByAcl = deps.authorizer.kind === 'acl';
  const controller = createDeliveryController({
    bounds: controllerBounds(concurrency, deps.fullLagMs),
    underPressure: deps.underPressure ?? (() => false),
    busy: deps.busy,
    now: () => performance.now(),
  });
  const gate = createOriginGate({
    perOrigin: deps.perOriginConcurrency,
    lookahead: () => lookaheadOf(deps.perOriginConcurrency, controller.pressed),
    breaker: deps.breaker ?? DEFAULT_BREAKER,
    onChange: reportBreaker,
  });

  const inFlight = new Set<Promise<void>>();
  /** Claimed callbacks waiting for a slot, oldest due first. */
  let waiting: Waiting[] = [];
  const waitingPerOrigin = new Map<string, number>();
  /** Records of finished attempts, and releases, still committing: stop() waits for them. */
  const writing = new Set<Promise<void>>();
  const abort = new AbortController();
  let running = false;
  let stopping = false;
  /** Set by wake(); the next sleep returns at once instead of waiting. */
  let woken = false;
  /**
   * Set when the last claim took every due callback it could: fewer than it asked, no origin at
   * its room, none passed over. A slot that frees is then no reason to claim again; new work
   * comes with wake() (a commit, or the record of an attempt that may have scheduled a retry), at
   * its due time or at the poll. Cleared by wake() and by a release here.
   */
  let drained = false;
  /** When a claim may next read past origins without room (`PASS_OVER_PAUSE_FACTOR`). */
  let passOverAt = Number.NEGATIVE_INFINITY;
  let endSleep: (() => void) | undefined;
  let loopDone: Promise<void> = Promise.resolve();
  let stopped: Promise<void> | undefined;

  function wake(): void {
    drained = false;
    wakeLoop();
  }

  function wakeLoop(): void {
    woken = true;
    endSleep?.();
  }

  /** The one delay of the loop: ends early on wake() (when `wakeable`) and always on stop(). */
  function sleep(ms: number, wakeable: boolean): Promise<void> {
    if (stopping || (wakeable && woken)) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        endSleep = undefined;
        resolve();
      }
      endSleep = () => {
        if (!stopping && !wakeable) return;
        // The wake that ends this sleep is the one this turn answers.
        woken = false;
        done();
      };
    });
  }

  /** Breaker changes go to the log and to the metrics; held callbacks are left untouched. */
  function reportBreaker(change: BreakerChange): void {
    const { origin } = change;
    if (change.kind === 'opened') {
      log.warn(
        { origin, cooldownMs: change.cooldownMs, heldUntil: new Date(change.until).toISOString() },
        change.afterProbe
          ? 'callback origin still failing: its callbacks stay held for a longer cool-down'
          : 'callback origin failing: its callbacks are held for a cool-down, their retries kept',
      );
    } else if (change.kind === 'probing') {
      log.info({ origin }, 'callback origin cool-down over: probing it with one attempt');
    } else {
      log.info({ origin }, 'callback origin answers again: its callbacks are sent');
    }
    metrics?.reportHeldOrigins(gate.held());
  }

  /** A write that stop() must see committed before it gives back the claims left over. */
  function written(write: Promise<unknown>): void {
    const done = write.then(
      () => undefined,
      () => undefined,
    );
    writing.add(done);
    void done.finally(() => writing.delete(done));
  }

  /**
   * One attempt in one slot. The slot frees as soon as the receiver has answered; the record of
   * the attempt commits after that (in `writing`, which stop() waits for), so slots count
   * attempts in flight, not the commits that follow them.
   */
  async function handle(claim: Claim, decidedNow: boolean, ticket: Ticket): Promise<void> {
    let outcome: Processed['outcome'];
    try {
      const processed = await processCallback(deps, claim, decidedNow, abort.signal);
      outcome = processed.outcome;
      const recorded = processed.recorded.catch((error: unknown) => failed(claim, error));
      written(recorded);
      // Anything but a delivery may have scheduled a retry: once that is committed, a claim
      // looks up its time (on PostgreSQL the record commits apart from the worker's claims).
      if (outcome?.kind !== 'delivered') void recorded.then(wake);
    } catch (error) {
      if (abort.signal.aborted) return; // released by stop()
      await failed(claim, error);
    } finally {
      gate.leave(ticket, abort.signal.aborted ? 'neutral' : verdictOf(outcome), deps.now());
    }
  }

  async function failed(claim: Claim, error: unknown): Promise<void> {
    log.error(
      { err: error, requestId: claim.id, driverId: maskDriverId(claim.driverId) },
      'callback handling failed; it is retried when its claim is released or expires',
    );
    await queue.release(claim).catch(() => undefined);
  }

  function track(claim: Claim, decidedNow: boolean, ticket: Ticket): void {
    const job = handle(claim, decidedNow, ticket).finally(() => {
      inFlight.delete(job);
      startWaiting();
      if (!drained && claimWanted(ticket.origin)) wakeLoop();
    });
    inFlight.add(job);
  }

  function countWaiting(origin: string, by: number): void {
    const count = (waitingPerOrigin.get(origin) ?? 0) + by;
    if (count > 0) waitingPerOrigin.set(origin, count);
    else waitingPerOrigin.delete(origin);
  }

  /**
   * Starts waiting callbacks while there are slots, oldest first, each once its origin has room.
   * One whose origin's breaker now holds it, or whose lease would no longer cover an attempt,
   * goes back unsent: due as before, no attempt recorded, and the next claim passes it over or
   * takes it with a fresh lease.
   */
  function startWaiting(): void {
    if (stopping || waiting.length === 0) return;
    const now = deps.now();
    const limit = controller.limit();
    const kept: Waiting[] = [];
    for (const item of waiting) {
      if (inFlight.size >= limit) {
        kept.push(item);
        continue;
      }
      if (now > item.startBy || gate.holds(item.origin, now)) {
        countWaiting(item.origin, -1);
        // Due again once released: the next claim may take it.
        drained = false;
        written(queue.release(item.claim));
        continue;
      }
      const ticket = gate.enter(item.origin, now);
      if (!ticket) {
        kept.push(item);
        continue;
      }
      countWaiting(item.origin, -1);
      track(item.claim, item.decidedNow, ticket);
    }
    waiting = kept;
  }

  /** How many callbacks a claim should take now: the free slots and a lookahead, less the waiting. */
  function claimRoom(limit: number): number {
    return limit + lookaheadOf(limit, controller.pressed) - inFlight.size - waiting.length;
  }

  /**
   * Whether enough room has freed to be worth a claim: a batch, not one per freed slot. With
   * `origin`, that origin must have such room too: slots freed by an origin at its cap, with
   * callbacks of its own waiting, are no reason to claim.
   */
  function claimWanted(origin?: string): boolean {
    const limit = controller.limit();
    const batch = Math.max(1, Math.ceil(lookaheadOf(limit, controller.pressed) / 2));
    if (claimRoom(limit) < batch) return false;
    if (origin === undefined) return true;
    const ahead = lookaheadOf(deps.perOriginConcurrency, controller.pressed);
    const room = gate.room(origin, deps.now(), waitingPerOrigin.get(origin) ?? 0);
    return room >= Math.max(1, Math.ceil(ahead / 2));
  }

  /** One turn: claim what is due and fits, start it, and say how long to sleep. */
  async function turn(): Promise<{ delay: number; wakeable: boolean }> {
    const limit = controller.limit();
    const room = claimRoom(limit);
    // Nothing worth claiming: a slot that frees wakes the loop once there is.
    if (room <= 0 || (waiting.length > 0 && !claimWanted())) {
      return { delay: pollIntervalMs, wakeable: true };
    }
    const now = deps.now();
    const rooms = gate.rooms(now, waitingPerOrigin);
    const passingOver = rooms.blocked.length > 0;
    // A slot that frees for one of those origins wakes the loop, and its claim reads past none.
    if (passingOver && now < passOverAt) return { delay: passOverAt - now, wakeable: true };
    const asked = Math.min(room, MAX_CLAIM);
    const claimStarted = performance.now();
    const claiming = queue.claimDue({
      owner,
      limit: asked,
      leaseMs,
      decideByAcl,
      excludeOrigins: rooms.blocked,
      roomPerOrigin: { default: rooms.perOrigin, byOrigin: rooms.byOrigin },
    });
    // When the next callback falls due is asked with the claim, so both take one round trip (one
    // writer batch on SQLite, two queries at once on PostgreSQL); a claim takes only due rows, so
    // the answer is the same. Asked after the claim, it held the next claim back by a round trip.
    const nextDue = controller.pressed ? undefined : queue.nextDueAfter(now);
    // Awaited below only when the claim leaves room; a failure meanwhile is not unhandled.
    nextDue?.catch(() => undefined);
    const claimed = await claiming;
    if (claimed.length > 0) metrics?.claimBatchSize.observe(claimed.length);
    if (passingOver) {
      const pause = PASS_OVER_PAUSE_FACTOR * (performance.now() - claimStarted);
      passOverAt = deps.now() + Math.min(pollIntervalMs, pause);
    }
    if (stopping) {
      // stop() began while this claim was committing: give the rows back, unsent.
      await Promise.all(claimed.map(({ claim }) => queue.release(claim)));
      return { delay: 0, wakeable: true };
    }
    // Claims come oldest due first, so the first one says how late delivery runs.
    const first = claimed[0]?.claim.nextAttemptAt;
    controller.observeLag(first == null ? 0 : now - first);

    const startBy = deps.now() + deps.startWithinMs;
    const claimedPerOrigin = new Map<string, number>();
    for (const { claim, decidedNow } of claimed) {
      const origin = callbackOriginOf(claim.callbackUrl);
      waiting.push({ claim, decidedNow, origin, startBy });
      countWaiting(origin, 1);
      claimedPerOrigin.set(origin, (claimedPerOrigin.get(origin) ?? 0) + 1);
    }
    drained =
      claimed.length < asked &&
      rooms.blocked.length === 0 &&
      [...claimedPerOrigin].every(
        ([origin, count]) => count < (rooms.byOrigin[origin] ?? rooms.perOrigin),
      );
    startWaiting();

    // Under pressure a pause that commits do not cut short, so claims are batched.
    if (controller.pressed) return { delay: PRESSURE_PAUSE_MS, wakeable: false };
    // A full claim may have left more due work: claim again at once if there is room for it.
    if (claimed.length === asked) return { delay: 0, wakeable: true };
    const next = await (nextDue ?? queue.nextDueAfter(now));
    const probeAt = gate.nextProbeAt(now);
    const delay = Math.min(
      pollIntervalMs,
      next === null ? pollIntervalMs : next - now,
      probeAt === null ? pollIntervalMs : probeAt - now,
    );
    return { delay, wakeable: true };
  }

  async function releaseClaimsOfDeadProcesses(): Promise<void> {
    const owners = await queue.claimOwners();
    for (const stale of owners.filter((o) => isDeadLocalOwner(o, owner))) {
      const released = await queue.releaseAll(stale);
      log.info({ owner: stale, released }, 'released the claims of a process that is gone');
    }
  }

  async function loop(): Promise<void> {
    // Work a killed process on this machine had claimed is due now, not when its lease ends.
    await releaseClaimsOfDeadProcesses().catch((error: unknown) =>
      log.error({ err: error }, 'could not release the claims of processes that are gone'),
    );
    while (!stopping) {
      let next = { delay: pollIntervalMs, wakeable: true };
      try {
        next = await turn();
      } catch (error) {
        log.error({ err: error }, 'worker loop failed; trying again after the poll interval');
        woken = false;
      }
      await sleep(next.delay, next.wakeable);
    }
  }

  return {
    start() {
      if (running || stopping) return;
      running = true;
      loopDone = loop();
    },
    wake,
    stop(graceMs) {
      stopped ??= (async () => {
        stopping = true;
        endSleep?.();
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
        await Promise.allSettled([...writing]);
        // Whatever is still claimed was not finished here: give it back.
        try {
          const released = await queue.releaseAll(owner);
          if (released > 0) log.info({ released }, 'released unfinished claims');
        } catch (error) {
          log.error(
            { err: error },
            'could not release unfinished claims; they expire with their lease',
          );
        }
        running = false;
      })();
      return stopped;
    },
    get running() {
      return running && !stopping;
    },
  };
}
