import { mkdirSync, rmdirSync, rmSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../../src/store/errors.ts';
import { createPortWriter, type Writer } from '../../../src/store/sqlite/batching-writer.ts';
import {
  type Database,
  migrateDatabase,
  openDatabase,
} from '../../../src/store/sqlite/database.ts';
import { FILE_GONE, fileIdentity } from '../../../src/store/sqlite/file-identity.ts';
import { createWriter, type WriterOptions } from '../../../src/store/sqlite/writer.ts';
import { createArgs } from '../../../src/store/sqlite/writes.ts';
import { tempDir } from '../../helpers/process.ts';
import { waitFor } from '../../helpers/wait.ts';

function migratedDatabase(path: string): Database {
  const db = openDatabase({ path, sync: 'normal' });
  migrateDatabase(db);
  return db;
}

const input = {
  stationId: '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50',
  driverId: 'DRV-0001-ab.cd_ef~0123',
  callbackUrl: 'https://example.com/cb',
};
const create = (writer: Writer, id: string) =>
  writer.run('create', createArgs(id, input, 1, 0, undefined));

const countIn = (client: BetterSqlite3.Database) =>
  client.prepare('select count(*) from charging_session_requests').pluck().get() as number;
const idsIn = (client: BetterSqlite3.Database) =>
  client.prepare('select id from charging_session_requests order by rowid').pluck().all();

const writers: Writer[] = [];
afterEach(async () => {
  await Promise.all(writers.splice(0).map((writer) => writer.close()));
});

/** The in-memory database runs its batches on the main connection; a file's go to the thread. */
const setups = [
  { name: 'in the writer thread', path: () => `${tempDir()}/writer.db` },
  { name: 'inline, in memory', path: () => ':memory:' },
];

describe.each(setups)('the writer, $name', ({ path: pathOf }) => {
  function setUp(options: Partial<WriterOptions> = {}) {
    const path = pathOf();
    const db = migratedDatabase(path);
    const writer = createWriter({
      path,
      sync: 'normal',
      client: db.$client,
      file: fileIdentity(path),
      ...options,
    });
    writers.push(writer);
    return { db, writer, path };
  }

  it('commits writes asked for in the same turn as one batch, in the order asked', async () => {
    const batches: number[] = [];
    const { db, writer } = setUp({ onCommit: (size) => batches.push(size) });
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => create(writer, `r${i}`)),
    );
    expect(outcomes.map((o) => o.requestId)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    expect(batches).toEqual([10]);
    expect(idsIn(db.$client)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
  });

  it('rejects only the write of a batch that fails, with its SQLite code; the rest commits', async () => {
    const { db, writer } = setUp();
    await create(writer, 'existing');
    const outcomes = await Promise.allSettled([
      create(writer, 'a'),
      create(writer, 'existing'), // primary key clash
      create(writer, 'b'),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const { reason } = outcomes[1] as PromiseRejectedResult;
    expect(reason).toBeInstanceOf(Error);
    expect(reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(idsIn(db.$client)).toEqual(['existing', 'a', 'b']);
  });

  it('refuses every write once the path no longer names the file opened', async () => {
    const failures: Error[] = [];
    const { writer, path } = setUp({ onFailure: (error) => failures.push(error) });
    if (path === ':memory:') return;
    // Known to the writer before the file goes: the check runs at each commit.
    await create(writer, 'before');
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    const outcomes = await Promise.allSettled([create(writer, 'a'), create(writer, 'b')]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    const { reason } = outcomes[0] as PromiseRejectedResult;
    expect(reason).toBeInstanceOf(StoreUnavailableError);
    expect(reason).toMatchObject({ code: FILE_GONE });
    expect((reason as Error).message).toContain('was deleted');
    expect(failures).toHaveLength(1);
  });

  it('flush() waits for the batch committing now and for the one gathered behind it', async () => {
    const { db, writer } = setUp();
    const first = create(writer, 'first');
    await new Promise((resolve) => setImmediate(resolve));
    const second = create(writer, 'second'); // gathered while the first batch commits
    await writer.flush();
    expect(idsIn(db.$client)).toEqual(['first', 'second']);
    await Promise.all([first, second]);
  });

  it('close() commits everything asked for before it', async () => {
    const path = pathOf();
    if (path === ':memory:') return;
    const db = migratedDatabase(path);
    const writer = createWriter({
      path,
      sync: 'normal',
      client: db.$client,
      file: fileIdentity(path),
    });
    const submitted = [create(writer, 'x'), create(writer, 'y')];
    expect(writer.queued).toBe(2);
    await writer.close();
    expect(writer.queued).toBe(0);
    await Promise.all(submitted);
    db.$client.close();
    expect(idsIn(new BetterSqlite3(path))).toEqual(['x', 'y']);
  });
});

describe('the writer thread', () => {
  /** A writer thread on a freshly migrated file. */
  function onFile(options: Partial<WriterOptions> = {}) {
    const path = `${tempDir()}/writer.db`;
    const db = migratedDatabase(path);
    const writer = createWriter({
      path,
      sync: 'full',
      client: db.$client,
      file: fileIdentity(path),
      ...options,
    });
    writers.push(writer);
    return { path, db, writer };
  }
  const attachTo = (writer: Writer) => {
    const port = writer.attach();
    if (!port) throw new Error('a file has a writer thread to attach to');
    return port;
  };

  it('resolves a write only once another connection can read it', async () => {
    const { path, writer } = onFile();
    const seen = await create(writer, 'visible').then(() => countIn(new BetterSqlite3(path)));
    expect(seen).toBe(1);
  });

  it('waits for the write lock off the event loop: timers keep running meanwhile', async () => {
    const { path, db, writer } = onFile();
    // Another connection holds the write lock; the thread's batch waits for it (busy_timeout).
    const holder = new BetterSqlite3(path);
    holder.prepare('BEGIN IMMEDIATE').run();
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    let committed = false;
    const pending = create(writer, 'after-the-lock').then(() => {
      committed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(committed).toBe(false);
    expect(ticks).toBeGreaterThanOrEqual(10); // the event loop ran while the write waited
    holder.prepare('COMMIT').run();
    await pending;
    clearInterval(ticker);
    expect(idsIn(db.$client)).toEqual(['after-the-lock']);
  });

  it("sends each turn's batch at once, and commits together the batches that arrive while it is busy", async () => {
    const commits: number[] = [];
    const { path, db, writer } = onFile({ onCommit: (size) => commits.push(size) });
    await create(writer, 'started'); // the thread is up
    const holder = new BetterSqlite3(path);
    holder.prepare('BEGIN IMMEDIATE').run();
    // The first batch holds the thread, waiting for the lock; three more turns send theirs.
    const pending = [create(writer, 'first')];
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let turn = 0; turn < 3; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      pending.push(create(writer, `t${turn}a`), create(writer, `t${turn}b`));
      expect(writer.queued).toBe(2);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(writer.queued).toBe(0); // sent, though nothing has committed yet
    holder.prepare('COMMIT').run();
    await Promise.all(pending);
    expect(commits).toEqual([1, 1, 6]);
    expect(idsIn(db.$client)).toEqual([
      'started',
      'first',
      't0a',
      't0b',
      't1a',
      't1b',
      't2a',
      't2b',
    ]);
  });

  it('tells an attached port of the new requests others commit, not of replays or other writes', async () => {
    const { writer } = onFile({ sync: 'normal' });
    let heard = 0;
    const attached = createPortWriter(attachTo(writer), { onCreated: () => heard++ });
    writers.push(attached);
    // What the thread sends a port arrives in order: once the port's own write is answered, it
    // has heard of every commit before that write's.
    const settle = () => attached.run('probe', { now: 1 });

    const key = { key: 'k-1', fingerprint: 'f-1' };
    await expect(writer.run('create', createArgs('new', input, 1, 0, key))).resolves.toMatchObject({
      created: true,
    });
    await settle();
    expect(heard).toBe(1);

    await expect(
      writer.run('create', createArgs('replay', input, 2, 0, key)),
    ).resolves.toMatchObject({ created: false, requestId: 'new' });
    await writer.run('probe', { now: 3 });
    await settle();
    expect(heard).toBe(1);

    await Promise.all([create(writer, 'a'), create(writer, 'b')]);
    await settle();
    expect(heard).toBe(2); // one transaction, one notice
  });

  it('tells an attached port when the writer thread stops under it, not when it closes itself', async () => {
    const { writer } = onFile({ sync: 'normal' });
    let left = 0;
    let cutOff = 0;
    const leaving = createPortWriter(attachTo(writer), { onGone: () => left++ });
    const staying = createPortWriter(attachTo(writer), { onGone: () => cutOff++ });
    await staying.run('probe', { now: 1 });
    await leaving.close();
    await writer.close();
    await waitFor(() => cutOff === 1);
    expect(left).toBe(0);
    await expect(staying.run('probe', { now: 2 })).rejects.toThrow(StoreUnavailableError);
  });

  it('passes a refused write back with its SQLite code and message', async () => {
    const { db, writer } = onFile();
    // A trigger that refuses the insert: its error comes back from the thread as SQLite gave it.
    db.$client.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON charging_session_requests BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    await expect(create(writer, 'refused')).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT_TRIGGER',
      message: 'refused',
    });
  });

  it('fails the writes with SQLITE_CANTOPEN while the file cannot be opened, then takes them', async () => {
    const path = `${tempDir()}/writer.db`;
    // A folder where the database file should be: SQLite cannot open it.
    mkdirSync(path);
    const writer = createWriter({
      path,
      sync: 'full',
      client: new BetterSqlite3(':memory:'),
      file: { opened: undefined, problem: () => undefined },
    });
    writers.push(writer);
    for (let i = 0; i < 2; i++) {
      await expect(create(writer, `r${i}`)).rejects.toMatchObject({ code: 'SQLITE_CANTOPEN' });
    }
    rmdirSync(path);
    migratedDatabase(path).$client.close();
    await expect(create(writer, 'opened')).resolves.toEqual({ created: true, requestId: 'opened' });
  });

  it('fails the writes of a batch it cannot send to the thread, and goes on', async () => {
    const path = `${tempDir()}/writer.db`;
    migratedDatabase(path).$client.close();
    const writer = createWriter({
      path,
      sync: 'full',
      client: new BetterSqlite3(':memory:'),
      file: { opened: undefined, problem: () => undefined },
    });
    writers.push(writer);
    const unsendable = writer.run(
      'create',
      createArgs('x', { ...input, callbackUrl: (() => {}) as unknown as string }, 1, 0, undefined),
    );
    await expect(unsendable).rejects.toMatchObject({ name: 'DataCloneError' });
    await expect(create(writer, 'next')).resolves.toEqual({ created: true, requestId: 'next' });
  });
});
