import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
} from 'drizzle-orm/pg-core';
import { ATTEMPT_OUTCOMES } from '../../domain/attempt.ts';
import { CALLBACK_STATES } from '../../domain/charging-session-request.ts';
import { DECISION_REASONS, DECISION_SOURCES, DECISION_STATUSES } from '../../domain/decision.ts';
import { DRIVER_STATUSES } from '../../domain/driver.ts';

/**
 * The PostgreSQL tables: the same tables, columns and constraints as `../sqlite/schema.ts`.
 * Times are epoch milliseconds in BIGINT columns. Migrations in `migrations/postgres/` are
 * generated from this file by `npm run db:generate` and never edited after they land.
 */

const epochMs = (name: string) => bigint(name, { mode: 'number' });

export const requests = pgTable(
  'charging_session_requests',
  {
    id: text('id').primaryKey(),
    stationId: text('station_id').notNull(),
    driverId: text('driver_id').notNull(),
    callbackUrl: text('callback_url').notNull(),
    /**
     * `callbackOriginOf(callbackUrl)`, so that a claim can pass over origins the worker holds.
     * Null on rows stored before migration 0002: the claim fills it in.
     */
    callbackOrigin: text('callback_origin'),
    createdAt: epochMs('created_at').notNull(),

    decisionStatus: text('decision_status', { enum: DECISION_STATUSES }),
    decisionSource: text('decision_source', { enum: DECISION_SOURCES }),
    decisionReason: text('decision_reason', { enum: DECISION_REASONS }),
    /** The eMSP's OCPI `authorization_reference`, when it sent one. */
    authorizationReference: text('authorization_reference'),
    decidedAt: epochMs('decided_at'),

    callbackState: text('callback_state', { enum: CALLBACK_STATES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** Attempts since the request was created or last re-queued; indexes the retry schedule. */
    cycleAttempts: integer('cycle_attempts').notNull().default(0),
    lastAttemptAt: epochMs('last_attempt_at'),
    lastResponseStatus: integer('last_response_status'),
    lastError: text('last_error'),
    /** When the next attempt is due; null once the callback is delivered or failed. */
    nextAttemptAt: epochMs('next_attempt_at'),
    /** Set when the callback reached its final state. */
    completedAt: epochMs('completed_at'),

    /** A claim: while `locked_until` is in the future, only `locked_by` works on the row. */
    lockedBy: text('locked_by'),
    lockedUntil: epochMs('locked_until'),
    /** Fences claims: incremented by every claim, checked by every write made under one. */
    claimToken: bigint('claim_token', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    index('requests_due_idx').on(t.callbackState, t.nextAttemptAt),
    index('requests_state_created_idx').on(t.callbackState, t.createdAt, t.id),
    index('requests_created_idx').on(t.createdAt, t.id),
    index('requests_locked_by_idx').on(t.lockedBy).where(sql`${t.lockedBy} is not null`),
    check('requests_state_check', sql`${t.callbackState} in ('pending', 'delivered', 'failed')`),
    check(
      'requests_pending_has_next_check',
      sql`(${t.callbackState} = 'pending') = (${t.nextAttemptAt} is not null)`,
    ),
  ],
);

export const callbackAttempts = pgTable(
  'callback_attempts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    requestId: text('request_id')
      .notNull()
      .references(() => requests.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    startedAt: epochMs('started_at').notNull(),
    durationMs: integer('duration_ms').notNull(),
    outcome: text('outcome', { enum: ATTEMPT_OUTCOMES }).notNull(),
    responseStatus: integer('response_status'),
    error: text('error'),
    /** The first 1 KiB of the response body, as text. */
    responseBody: text('response_body'),
  },
  (t) => [
    index('callback_attempts_request_idx').on(t.requestId, t.id),
    // Deliveries per minute for the operator overview: a range of this index, one entry per
    // delivered callback.
    index('callback_attempts_delivered_idx').on(t.startedAt).where(sql`${t.outcome} = 'delivered'`),
  ],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    key: text('key').primaryKey(),
    /** A hash of the request body the key was first used with. */
    fingerprint: text('fingerprint').notNull(),
    requestId: text('request_id')
      .notNull()
      .references(() => requests.id, { onDelete: 'cascade' }),
    createdAt: epochMs('created_at').notNull(),
  },
  (t) => [index('idempotency_keys_created_idx').on(t.createdAt)],
);

export const drivers = pgTable(
  'drivers',
  {
    driverId: text('driver_id').primaryKey(),
    status: text('status', { enum: DRIVER_STATUSES }).notNull(),
    expiresAt: epochMs('expires_at'),
    allStations: boolean('all_stations').notNull().default(false),
    createdAt: epochMs('created_at').notNull(),
    updatedAt: epochMs('updated_at').notNull(),
  },
  (t) => [check('drivers_status_check', sql`${t.status} in ('active', 'blocked')`)],
);

export const driverStations = pgTable(
  'driver_stations',
  {
    driverId: text('driver_id')
      .notNull()
      .references(() => drivers.driverId, { onDelete: 'cascade' }),
    /** Lower-case, so that grants match station ids in either case. */
    stationId: text('station_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.driverId, t.stationId] })],
);

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});
