import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Database,
  MIGRATIONS_FOLDER,
  migrateDatabase,
  openDatabase,
} from '../../../src/store/sqlite/database.ts';
import { buildService, type TestService } from '../../helpers/app.ts';
import { sqliteTestDatabase } from '../../helpers/database.ts';

/**
 * Migration 0002 on a database made by release 0.1.0 (only 0000 applied): its free-text
 * decision reasons become codes, and the new column is there, empty.
 */

let dir: string;
let db: Database | undefined;
let service: TestService | undefined;
afterEach(async () => {
  await service?.close();
  await service?.database.drop();
  db?.$client.close();
  rmSync(dir, { recursive: true, force: true });
  service = db = undefined;
});

/** A migrations folder holding only the first migration: the schema the previous version had. */
function firstMigrationOnly(): string {
  const folder = join(dir, 'migrations-0000');
  mkdirSync(join(folder, 'meta'), { recursive: true });
  const journal = JSON.parse(
    readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
  );
  const [first] = journal.entries;
  expect(first.tag).toBe('0000_initial');
  writeFileSync(
    join(folder, 'meta', '_journal.json'),
    JSON.stringify({ ...journal, entries: [first] }),
  );
  copyFileSync(join(MIGRATIONS_FOLDER, '0000_initial.sql'), join(folder, '0000_initial.sql'));
  return folder;
}

const STATION = '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50';
const DECIDED_AT = Date.parse('2026-03-01T10:00:00Z');

/** [old status, old source, old free text, expected code] */
const OLD_DECISIONS = [
  ['invalid', 'acl', 'driver unknown', 'unknown_driver'],
  ['not_allowed', 'acl', 'driver blocked', 'blocked'],
  ['not_allowed', 'acl', 'driver expired', 'expired'],
  ['allowed', 'acl', 'all stations', 'granted'],
  ['allowed', 'acl', 'station granted', 'granted'],
  ['not_allowed', 'acl', 'station not granted', 'station_not_granted'],
  ['allowed', 'authorizer', 'authorizer answered', 'authorizer'],
  ['not_allowed', 'authorizer', 'authorizer answered', 'authorizer'],
  ['invalid', 'authorizer', 'authorizer answered', 'authorizer'],
  ['unknown', 'authorizer', 'no valid answer within AUTHORIZER_TIMEOUT_MS (5000 ms)', 'timeout'],
  ['unknown', 'authorizer', 'authorizer answered 404', 'bad_answer'],
  ['unknown', 'authorizer', 'authorizer answered with invalid JSON', 'bad_answer'],
  ['unknown', 'authorizer', 'authorizer answered without a valid status', 'bad_answer'],
] as const;

const idOf = (index: number) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;

describe('migration 0002 (decision details)', () => {
  it('maps the old free-text reasons to codes and adds an empty authorization_reference', async () => {
    dir = mkdtempSync(join(tmpdir(), 'chargegate-migration-'));
    const path = join(dir, 'old.db');
    db = openDatabase({ path, sync: 'normal' });
    migrate(db, { migrationsFolder: firstMigrationOnly() });
    const columns = () =>
      (db as Database).$client
        .prepare('select name from pragma_table_info(?)')
        .pluck()
        .all('charging_session_requests');
    expect(columns()).not.toContain('authorization_reference');

    const insert = db.$client.prepare(
      `insert into charging_session_requests
         (id, station_id, driver_id, callback_url, created_at, decision_status, decision_source,
          decision_reason, decided_at, callback_state, attempts, next_attempt_at, completed_at)
       values (?, ?, ?, 'https://backend.example.com/cb', ?, ?, ?, ?, ?, 'delivered', 1, null, ?)`,
    );
    OLD_DECISIONS.forEach(([status, source, text], index) => {
      insert.run(
        idOf(index),
        STATION,
        `DRV-OLD-ROW-${String(index).padStart(10, '0')}`,
        DECIDED_AT - 1_000,
        status,
        source,
        text,
        DECIDED_AT,
        DECIDED_AT + 1_000,
      );
    });
    const undecided = idOf(99);
    db.$client
      .prepare(
        `insert into charging_session_requests
           (id, station_id, driver_id, callback_url, created_at, callback_state, next_attempt_at)
         values (?, ?, 'DRV-OLD-ROW-UNDECIDED', 'https://backend.example.com/cb', ?, 'pending', ?)`,
      )
      .run(undecided, STATION, DECIDED_AT, DECIDED_AT);

    migrateDatabase(db);
    expect(columns()).toContain('authorization_reference');
    const stored = db.$client
      .prepare(
        'select id, decision_status, decision_reason, authorization_reference from charging_session_requests order by id',
      )
      .all();
    expect(stored).toEqual([
      ...OLD_DECISIONS.map(([status, , , code], index) => ({
        id: idOf(index),
        decision_status: status,
        decision_reason: code,
        authorization_reference: null,
      })),
      {
        id: undecided,
        decision_status: null,
        decision_reason: null,
        authorization_reference: null,
      },
    ]);

    db.$client.close();
    db = undefined;
    const database = sqliteTestDatabase(path);
    service = await buildService({ database });
    for (const [index, [status, , , reason]] of OLD_DECISIONS.entries()) {
      const response = await service.app.inject({
        method: 'GET',
        url: `/api/charging-session-requests/${idOf(index)}`,
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().decision).toEqual({
        status,
        reason,
        decidedAt: new Date(DECIDED_AT).toISOString(),
      });
    }
    const pending = await service.app.inject({
      method: 'GET',
      url: `/api/charging-session-requests/${undecided}`,
    });
    expect(pending.json().decision).toBeNull();
  });
});
