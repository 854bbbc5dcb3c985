import type { MessagePort } from 'node:worker_threads';
import type { NextStep } from '../domain/attempt.ts';
import type { CallbackState, CreateRequestInput } from '../domain/charging-session-request.ts';
import type { Decision } from '../domain/decision.ts';
import type { DriverChanges, DriverRecord } from '../domain/driver.ts';
import type { AttemptRecord, Claim, ListCursor, RequestRecord } from '../domain/request-record.ts';
import type { StatsSnapshot } from '../domain/stats.ts';

/**
 * The storage port. `api/`, `worker/`, `cli/` and the composition root reach the database only
 * through it. Every method is asynchronous and is its own unit of work: it commits (or fails)
 * before its promise settles, and no caller code runs inside a transaction. Only the adapters
 * under `store/*` know which database they talk to.
 */

export type IdempotencyClaim = { key: string; fingerprint: string };

/** What a create came to: a new request, or the live request an idempotency key already names. */
export type CreateOutcome =
  | { created: true; requestId: string }
  | { created: false; requestId: string; fingerprint: string };

export type RequestStore = {
  /**
   * Stores a new request, due for its callback at once, and resolves only after the commit.
   * With an idempotency key, the same key used within 24 h answers the request it first created
   * (created: false) and stores nothing, even when sent to several instances at once.
   */
  create(input: CreateRequestInput, idempotency?: IdempotencyClaim): Promise<CreateOutcome>;
  find(id: string): Promise<RequestRecord | undefined>;
  /** Newest first; `cursor` continues after the last row of the previous page. */
  list(
    state: CallbackState | undefined,
    limit: number,
    cursor: ListCursor | undefined,
  ): Promise<RequestRecord[]>;
  /** The delivery log of one request, oldest attempt first. */
  attempts(id: string): Promise<AttemptRecord[]>;
  /** Sends the callback again now with a fresh retry schedule, whatever its state. */
  requeue(id: string): Promise<RequestRecord | undefined>;
  /** Re-queues every failed callback of a request created in [since, until). */
  requeueFailed(since: number, until: number): Promise<number>;
  /** Pending callbacks, and when the oldest of them was created. */
  pendingSummary(): Promise<{ count: number; oldestCreatedAt: number | null }>;
  /** Callbacks by state, the oldest pending one, and activity per minute from `since` on. */
  stats(since: number): Promise<StatsSnapshot>;
};

export type ClaimOptions = {
  owner: string;
  /** At most this many claims. */
  limit: number;
  /** How long the claim lasts. */
  leaseMs: number;
  /**
   * Decide the claimed requests that have no decision yet with the built-in ACL, from the ACL
   * facts read with the claim, and store the decisions with it.
   */
  decideByAcl: boolean;
  /**
   * Callback origins (`callbackOriginOf`) to pass over: due callbacks to them stay where they are,
   * unclaimed and untouched, and younger ones to other origins are claimed instead.
   */
  excludeOrigins?: readonly string[];
  /**
   * At most `default` claims per origin, or `byOrigin[origin]` for the origins named there, so a
   * batch holds no more callbacks to one origin than the worker can start. Unset: no such limit.
   */
  roomPerOrigin?: { default: number; byOrigin: Readonly<Record<string, number>> };
};

/** A claim and whether the built-in ACL decided it while it was claimed. */
export type ClaimResult = { claim: Claim; decidedNow: boolean };

export type QueueStore = {
  /** Claims up to `limit` due callbacks, oldest due first; never one another worker holds. */
  claimDue(options: ClaimOptions): Promise<ClaimResult[]>;
  /** Stores a decision made at `decidedAt` and renews the lease. False when the claim was lost. */
  saveDecision(
    claim: Claim,
    decision: Decision,
    decidedAt: number,
    leaseMs: number,
  ): Promise<boolean>;
  /**
   * Records an attempt and what follows it. The attempt is always kept; the request moves on only
   * while the claim still holds (same owner and token). Answers whether it did.
   */
  finishAttempt(claim: Claim, record: AttemptRecord, step: NextStep): Promise<boolean>;
  /** Gives a claim back without recording an attempt, so the callback is due again at once. */
  release(claim: Claim): Promise<void>;
  /** Gives back every claim `owner` still holds. */
  releaseAll(owner: string): Promise<number>;
  /** The owners of claims that have not expired. */
  claimOwners(): Promise<string[]>;
  /** When the next pending callback not yet due becomes due, or null when none is scheduled. */
  nextDueAfter(now: number): Promise<number | null>;
};

export type DriverStore = {
  find(driverId: string): Promise<DriverRecord | undefined>;
  upsert(driverId: string, changes: DriverChanges): Promise<DriverRecord>;
  /** Removes a driver and its grants. Answers whether it existed. */
  remove(driverId: string): Promise<boolean>;
  /** Grants a station. Answers the driver, or undefined when it is unknown. */
  grant(driverId: string, stationId: string): Promise<DriverRecord | undefined>;
  /** Revokes a station (a no-op when it was not granted). Answers the driver, if known. */
  revoke(driverId: string, stationId: string): Promise<DriverRecord | undefined>;
  /** Replaces drivers wholesale, grants included, in one transaction: the bulk import. */
  importBatch(records: readonly DriverRecord[]): Promise<void>;
  /** Every driver with its grants, in driver id order, read a page at a time. */
  exportAll(): AsyncIterable<DriverRecord>;
};

export type RetentionStore = {
  /**
   * Deletes up to `limit` delivered or failed requests created and finished before
   * `finishedBefore`, and up to `limit` idempotency keys past their 24 h. Answers how many rows
   * went. Safe to run on every instance at once.
   */
  sweep(finishedBefore: number, limit: number): Promise<number>;
};

/**
 * What another thread of this process needs to open a store's queue for itself
 * (`openSharedQueue`): for SQLite, a port to the writer thread. It is transferred to that thread.
 */
export type QueueShare = { kind: 'sqlite'; port: MessagePort };

/**
 * Which checks pass; `/readyz` names the failing ones. `database`: it answers (and, for SQLite,
 * the file is the one opened); `writable`: the last commit succeeded, or a write probe did.
 */
export type StoreHealth = { database: boolean; migrations: boolean; writable: boolean };

export type Store = {
  /** `sqlite` or `postgres`: for logs and the CLI's messages only. */
  readonly kind: string;
  /** Where the data lives, without credentials: a path or a host and database. */
  readonly location: string;
  requests: RequestStore;
  queue: QueueStore;
  drivers: DriverStore;
  retention: RetentionStore;
  /** Applies pending migrations; answers the names of those applied. */
  migrate(): Promise<string[]>;
  /** The names of the migrations this database has applied, and of those this release ships. */
  migrations(): Promise<{ applied: number; shipped: readonly string[] }>;
  /** The generated webhook signing secret, created once and shared by every instance. */
  webhookSecret(): Promise<string>;
  health(): Promise<StoreHealth>;
  /**
   * Calls `listener` after new requests were committed, here or (where the database can tell)
   * by another instance. Answers a function that removes the listener.
   */
  onCommitted(listener: () => void): () => void;
  /**
   * A share of the queue for the callback worker's own thread, or undefined where the worker
   * stays on the event loop (an in-memory database, which no other thread can reach; PostgreSQL,
   * whose queue waits on the network rather than on the CPU).
   */
  shareQueue(): QueueShare | undefined;
  /** Commits what is queued and closes the database. Idempotent. */
  close(): Promise<void>;
};
