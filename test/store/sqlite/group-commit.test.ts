import { describe, expect, it } from 'vitest';
import {
  type Database,
  migrateDatabase,
  openDatabase,
} from '../../../src/store/sqlite/database.ts';
import { createGroupCommit } from '../../../src/store/sqlite/group-commit.ts';
import { createRequestQueries } from '../../../src/store/sqlite/requests.ts';
import { tempDir } from '../../helpers/process.ts';

function migratedDatabase(path = ':memory:'): Database {
  const db = openDatabase({ path, sync: 'normal' });
  migrateDatabase(db);
  return db;
}

const row = (id: string, createdAt = 1) => ({
  id,
  stationId: '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50',
  driverId: 'DRV-0001-ab.cd_ef~0123',
  callbackUrl: 'https://example.com/cb',
  createdAt,
});

const ids = (db: Database) =>
  db.$client.prepare('select id from charging_session_requests order by rowid').pluck().all();

describe('group commit', () => {
  it('commits work submitted in the same turn as one batch, in submission order', async () => {
    const db = migratedDatabase();
    const batches: number[] = [];
    const commit = createGroupCommit({ db, onBatch: (size) => batches.push(size) });
    const requests = createRequestQueries(db);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        commit.run(() => {
          requests.insert(row(`r${i}`));
          return i;
        }),
      ),
    );
    expect(results).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batches).toEqual([10]);
    expect(ids(db)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
  });

  it('resolves only after the commit: the rows are visible to another connection by then', async () => {
    const path = `${tempDir()}/gc.db`;
    const db = migratedDatabase(path);
    const reader = migratedDatabase(path);
    const commit = createGroupCommit({ db });
    const requests = createRequestQueries(db);
    let seenBeforeResolve = -1;
    const pending = commit.run(() => {
      requests.insert(row('visible'));
      seenBeforeResolve = reader.$client
        .prepare('select count(*) from charging_session_requests')
        .pluck()
        .get() as number;
    });
    await pending;
    expect(seenBeforeResolve).toBe(0); // still inside the open transaction
    expect(
      reader.$client.prepare('select count(*) from charging_session_requests').pluck().get(),
    ).toBe(1);
  });

  it('rejects only the piece of a batch that fails; the rest of the batch commits', async () => {
    const db = migratedDatabase();
    const commit = createGroupCommit({ db });
    const requests = createRequestQueries(db);
    await commit.run(() => requests.insert(row('existing')));
    const outcomes = await Promise.allSettled([
      commit.run(() => requests.insert(row('a'))),
      commit.run(() => {
        requests.insert(row('half-done')); // rolled back with the rest of this piece
        requests.insert(row('existing')); // primary key clash
      }),
      commit.run(() => requests.insert(row('b'))),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(ids(db)).toEqual(['existing', 'a', 'b']);
  });

  it('rejects every piece of a batch whose commit fails, and keeps none of it', async () => {
    const db = migratedDatabase();
    const failures: unknown[] = [];
    const commit = createGroupCommit({ db, onFailure: (error) => failures.push(error) });
    const requests = createRequestQueries(db);
    const outcomes = await Promise.allSettled([
      commit.run(() => requests.insert(row('a'))),
      commit.run(() => {
        // A foreign key checked only at COMMIT: the whole transaction fails there.
        db.$client.pragma('defer_foreign_keys = ON');
        db.$client
          .prepare(
            "insert into callback_attempts (request_id, attempt, started_at, duration_ms, outcome) values ('nobody', 1, 1, 1, 'network')",
          )
          .run();
      }),
      commit.run(() => requests.insert(row('b'))),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(failures).toHaveLength(1);
    expect(ids(db)).toEqual([]);

    // The next batch is unaffected.
    await commit.run(() => requests.insert(row('c')));
    expect(ids(db)).toEqual(['c']);
  });

  it('starts a new batch for work submitted after a commit', async () => {
    const db = migratedDatabase();
    const batches: number[] = [];
    const commit = createGroupCommit({ db, onBatch: (size) => batches.push(size) });
    await Promise.all([commit.run(() => 1), commit.run(() => 2)]);
    await commit.run(() => 3);
    expect(batches).toEqual([2, 1]);
  });

  it('flush() commits what is queued, so shutdown loses nothing that was submitted', async () => {
    const path = `${tempDir()}/gc.db`;
    const db = migratedDatabase(path);
    const commit = createGroupCommit({ db });
    const requests = createRequestQueries(db);
    const submitted = [
      commit.run(() => requests.insert(row('x'))),
      commit.run(() => requests.insert(row('y'))),
    ];
    expect(commit.queued).toBe(2);
    await commit.flush();
    expect(commit.queued).toBe(0);
    db.$client.close();
    await Promise.all(submitted);
    const reopened = migratedDatabase(path);
    expect(ids(reopened)).toEqual(['x', 'y']);
  });

  it('flush() with nothing queued resolves at once', async () => {
    const commit = createGroupCommit({ db: migratedDatabase() });
    await expect(commit.flush()).resolves.toBeUndefined();
  });
});
