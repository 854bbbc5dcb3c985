import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { recoveryWindow } from '../../src/cli/callbacks-recover.ts';
import { IMPORT_BATCH_ROWS } from '../../src/cli/drivers-import.ts';
import { migrationSummary } from '../../src/cli/migrate.ts';
import { packageVersion } from '../../src/version.ts';
import { seedRequest, testDatabase } from '../helpers/database.ts';
import { tempDir } from '../helpers/process.ts';
import { runBinary, runInProcess, writeText } from './cli.ts';

const databasePath = () => join(tempDir('chargegate-cli-'), 'cg.db');
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('migrate', () => {
  it('applies the migrations to a new database, then finds it up to date', async () => {
    const path = databasePath();

    const first = await runBinary(['migrate'], { DATABASE_PATH: path });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      new RegExp(`^applied \\d+ migrations? to ${path}: 0000_initial(, \\w+)*\\n$`),
    );
    const db = new BetterSqlite3(path, { readonly: true });
    const tables = db
      .prepare("select name from sqlite_master where type = 'table'")
      .pluck()
      .all() as string[];
    db.close();
    expect(tables).toEqual(
      expect.arrayContaining(['charging_session_requests', 'drivers', 'driver_stations']),
    );

    const second = await runBinary(['migrate'], { DATABASE_PATH: path });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(
      new RegExp(`^${path} is up to date \\(\\d+ migrations? applied, none pending\\)\\n$`),
    );
  });

  it('exits 1 with the migration error when a migration fails', async () => {
    const path = databasePath();
    // A table the first migration creates, already there without the migration's record.
    const db = new BetterSqlite3(path);
    db.exec('create table drivers (anything text)');
    db.close();

    const result = await runBinary(['migrate'], { DATABASE_PATH: path });

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^chargegate: database migration failed: .*drivers/m);
    expect(result.stdout).toBe('');
  });

  it('exits 1 naming the path when the file is not a database', async () => {
    const path = writeText(
      databasePath(),
      'this is not an SQLite database, it is text\n'.repeat(50),
    );
    const result = await runInProcess(['migrate'], { DATABASE_PATH: path });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`chargegate: cannot open the database at ${path}:`);
  });

  it.each([
    [0, 1, ['0000_initial'], 'applied 1 migration to x.db: 0000_initial'],
    [1, 3, ['a', 'b', 'c'], 'applied 2 migrations to x.db: b, c'],
    [2, 2, ['a', 'b'], 'x.db is up to date (2 migrations applied, none pending)'],
    [1, 1, ['a'], 'x.db is up to date (1 migration applied, none pending)'],
  ])('summarises %i → %i applied', (before, after, names, text) => {
    expect(migrationSummary('x.db', before, after, names)).toBe(text);
  });
});

describe('bad configuration', () => {
  it.each([
    [['migrate'], { DATABASE_SYNC: 'sometimes' }, 'DATABASE_SYNC must be "full" or "normal"'],
    [['secret', 'show'], { WEBHOOK_SECRET: 'hunter2' }, 'WEBHOOK_SECRET must start with "whsec_"'],
  ])('%j exits 78 naming the variable', async (args, env, message) => {
    const result = await runBinary(args, { DATABASE_PATH: databasePath(), ...env });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`chargegate: invalid configuration: ${message}`);
    expect(result.stderr).not.toContain('hunter2');
  });
});

describe('secret show', () => {
  it('prints only the stored secret on stdout, the same every time, and its origin on stderr', async () => {
    const database = await testDatabase();
    const where =
      database.kind === 'sqlite'
        ? database.env.DATABASE_PATH
        : new URL(database.env.DATABASE_URL as string).pathname.slice(1);

    const first = await runBinary(['secret', 'show'], database.env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}\n$/);
    expect(first.stderr).toMatch(new RegExp(`kept in the database at \\S*${where}`));

    const second = await runBinary(['secret', 'show'], database.env);
    expect(second.stdout).toBe(first.stdout);
    const stored = await database.sql.value<string>(
      "select value from settings where key = 'webhook_secret'",
    );
    expect(`${stored}\n`).toBe(first.stdout);
    await database.drop();
  });

  it('prints WEBHOOK_SECRET when it is set, without touching the database', async () => {
    const path = databasePath();
    const result = await runBinary(['secret', 'show'], {
      DATABASE_PATH: path,
      WEBHOOK_SECRET: SECRET,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${SECRET}\n`);
    expect(result.stderr).toBe('from WEBHOOK_SECRET\n');
    expect(existsSync(path)).toBe(false);
  });
});

describe('commands that read, without a database', () => {
  it.each([
    [['secret', 'show']],
    [['drivers', 'export']],
    [['callbacks', 'recover', '--since', '2026-03-01']],
  ])('%j refuses a database that does not exist, and creates none', async (args) => {
    const dir = tempDir('chargegate-cli-');
    const path = join(dir, 'data', 'cg.db');
    const result = await runInProcess(args, { DATABASE_PATH: path });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `chargegate: there is no database at ${path}: set DATABASE_PATH to the server's database file (\`chargegate migrate\` or \`chargegate serve\` creates a new one)\n`,
    );
    expect(result.stdout).toBe('');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('secret show refuses the default ./data/chargegate.db when it is not there', async () => {
    const dir = tempDir('chargegate-cli-');
    const result = await runBinary(['secret', 'show'], {}, { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'there is no database at ./data/chargegate.db: set DATABASE_PATH',
    );
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('migrate and drivers import still create it', async () => {
    const migrated = databasePath();
    expect((await runInProcess(['migrate'], { DATABASE_PATH: migrated })).code).toBe(0);
    expect(existsSync(migrated)).toBe(true);

    const imported = databasePath();
    const file = writeText(
      join(tempDir('chargegate-cli-'), 'drivers.csv'),
      'driverId,status\nDRV-0001-ab.cd_ef~0123,active\n',
    );
    expect(
      (await runInProcess(['drivers', 'import', file], { DATABASE_PATH: imported })).code,
    ).toBe(0);
    expect(existsSync(imported)).toBe(true);
  });
});

describe('drivers import and export on the configured database', () => {
  it('imports the example file and exports the same drivers again, on either backend', async () => {
    const database = await testDatabase();
    const examples = new URL('../../examples/', import.meta.url).pathname;
    const imported = await runBinary(
      ['drivers', 'import', `${examples}drivers.jsonl`],
      database.env,
    );
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/^imported \d+ rows, skipped 0,/);
    const count = Number(/^imported (\d+)/.exec(imported.stdout)?.[1]);
    expect(await database.sql.count('drivers')).toBe(count);

    const exported = await runBinary(['drivers', 'export', '--format', 'jsonl'], database.env);
    expect(exported.code).toBe(0);
    const lines = exported.stdout.trim().split('\n');
    expect(lines).toHaveLength(count);
    const ids = lines.map((line) => JSON.parse(line).driverId as string);
    expect(ids).toEqual([...ids].sort());
    await database.drop();
  });
});

describe('callbacks recover', () => {
  const at = (iso: string) => Date.parse(iso);

  /** A database with one request per case, created at `createdAt`, its callback in `state`. */
  async function seed(
    cases: Array<{ createdAt: string; state: 'pending' | 'delivered' | 'failed' }>,
  ) {
    const database = await testDatabase();
    const ids: string[] = [];
    for (const { createdAt, state } of cases) {
      const id = randomUUID();
      const created = at(createdAt);
      await seedRequest(database.sql, {
        id,
        createdAt: created,
        state,
        completedAt: created + 1,
        cycleAttempts: state === 'pending' ? 0 : 8,
      });
      ids.push(id);
    }
    return { database, ids };
  }

  it('re-queues the failed callbacks of requests created in the window, and only those', async () => {
    const { database, ids } = await seed([
      { createdAt: '2026-02-28T23:59:59.999Z', state: 'failed' },
      { createdAt: '2026-03-01T00:00:00.000Z', state: 'failed' },
      { createdAt: '2026-03-01T12:00:00.000Z', state: 'failed' },
      { createdAt: '2026-03-01T13:00:00.000Z', state: 'delivered' },
      { createdAt: '2026-03-02T00:00:00.000Z', state: 'failed' },
    ]);
    const [before, first, inside, delivered, atUntil] = ids;
    const startedAt = Date.now();

    const result = await runBinary(
      ['callbacks', 'recover', '--since', '2026-03-01', '--until', '2026-03-02T01:00:00+01:00'],
      database.env,
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      're-queued 2 failed callbacks of requests created from 2026-03-01T00:00:00.000Z until 2026-03-02T00:00:00.000Z\n',
    );
    const store = database.openStore();
    const state = (id: string | undefined) => store.requests.find(id as string);
    for (const id of [first, inside]) {
      expect(await state(id)).toMatchObject({
        callbackState: 'pending',
        cycleAttempts: 0,
        completedAt: null,
      });
      expect((await state(id))?.nextAttemptAt).toBeGreaterThanOrEqual(startedAt);
    }
    expect((await state(before))?.callbackState).toBe('failed');
    expect((await state(atUntil))?.callbackState).toBe('failed');
    expect((await state(delivered))?.callbackState).toBe('delivered');
    await store.close();
    await database.drop();
  });

  it('says so when nothing failed in the window', async () => {
    const { database } = await seed([
      { createdAt: '2026-03-01T12:00:00.000Z', state: 'delivered' },
    ]);
    const result = await runInProcess(
      ['callbacks', 'recover', '--since', '2026-01-01T00:00:00Z'],
      database.env,
    );
    await database.drop();
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^re-queued 0 failed callbacks of requests created from 2026-01-01T00:00:00.000Z until /,
    );
  });

  it.each([
    [['--since', 'yesterday'], '--since must be an ISO 8601 date-time'],
    [['--since', '2026-03-01T00:00:00'], '--since must be an ISO 8601 date-time'],
    [
      ['--since', '2026-03-02', '--until', '2026-03-01'],
      '--since (2026-03-02T00:00:00.000Z) must be before --until',
    ],
    [['--until', '2026-03-01'], "required option '--since <instant>' not specified"],
  ])('%j is a usage error', async (args, message) => {
    const result = await runInProcess(['callbacks', 'recover', ...args], {
      DATABASE_PATH: databasePath(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('takes now as the end of the window by default', () => {
    const now = Date.UTC(2026, 2, 5);
    expect(recoveryWindow('2026-03-01', undefined, now)).toEqual({
      since: Date.UTC(2026, 2, 1),
      until: now,
    });
    expect(recoveryWindow('2026-03-01T01:00:00+01:00', '2026-03-02', now)).toEqual({
      since: Date.UTC(2026, 2, 1),
      until: Date.UTC(2026, 2, 2),
    });
  });
});

describe('help and usage', () => {
  it.each([
    [[], 'chargegate [options] [command]'],
    [['serve'], 'chargegate serve [options]'],
    [['worker'], 'chargegate worker [options]'],
    [['migrate'], 'chargegate migrate [options]'],
    [['drivers'], 'chargegate drivers [options] [command]'],
    [['drivers', 'import'], 'chargegate drivers import [options] <file>'],
    [['drivers', 'export'], 'chargegate drivers export [options]'],
    [['callbacks'], 'chargegate callbacks [options] [command]'],
    [['callbacks', 'recover'], 'chargegate callbacks recover [options]'],
    [['secret'], 'chargegate secret [options] [command]'],
    [['secret', 'show'], 'chargegate secret show [options]'],
  ])('%j --help prints usage and exits 0', async (command, usage) => {
    const result = await runInProcess([...command, '--help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: ${usage}`);
    if (command.length > 0 && !['drivers', 'callbacks', 'secret'].includes(command.at(-1) ?? '')) {
      expect(result.stdout).toContain('Examples:\n  $ chargegate ');
    }
  });

  it('drivers import --help states the rows per transaction the import uses', async () => {
    const result = await runInProcess(['drivers', 'import', '--help'], {});
    expect(IMPORT_BATCH_ROWS).toBe(1_000);
    expect(result.stdout.replace(/\s+/g, ' ')).toContain('upserted 1,000 per transaction');
  });

  it('the binary prints help for every command', async () => {
    const root = await runBinary(['--help'], {});
    expect(root.code).toBe(0);
    for (const command of ['serve', 'worker', 'migrate', 'drivers', 'callbacks', 'secret']) {
      expect(root.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(root.stdout).toContain(
      'Exit codes: 0 done, 1 failed, 2 usage error, 78 bad configuration.',
    );
    const importHelp = await runBinary(['drivers', 'import', '--help'], {});
    expect(importHelp.code).toBe(0);
    expect(importHelp.stdout).toContain('--skip-invalid');
  });

  it.each([
    [[], 'Usage: chargegate'],
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['drivers'], 'Usage: chargegate drivers'],
    [['drivers', 'import'], "missing required argument 'file'"],
    [['migrate', '--force'], "unknown option '--force'"],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const result = await runInProcess(args, {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('prints the version', async () => {
    const result = await runInProcess(['--version'], {});
    expect(result).toEqual({ code: 0, stdout: `${packageVersion()}\n`, stderr: '' });
  });
});
