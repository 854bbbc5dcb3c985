import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { driversImportCommand } from '../../src/cli/drivers-import.ts';
import type { DriverRecord } from '../../src/domain/driver.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { tempDir } from '../helpers/process.ts';
import {
  csvText,
  generatedRow,
  generatedRows,
  jsonlText,
  runBinary,
  runInProcess,
  STATIONS,
  type TestRow,
  writeText,
} from './cli.ts';

let open: Store[] = [];
afterEach(async () => {
  for (const store of open) await store.close();
  open = [];
});

/** The drivers of the SQLite file at `path`, migrated. */
async function driversAt(path: string): Promise<Store['drivers']> {
  const store = openStore({ databasePath: path, databaseSync: 'normal' });
  open.push(store);
  await store.migrate();
  return store.drivers;
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function count(path: string, table: 'drivers' | 'driver_stations'): number {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return db.prepare(`select count(*) from ${table}`).pluck().get() as number;
  } finally {
    db.close();
  }
}

/** What the database should hold after importing `row`. */
const stored = (row: TestRow): DriverRecord => ({
  driverId: row.driverId,
  status: row.status,
  expiresAt: row.expiresAt === null ? null : Date.parse(row.expiresAt),
  allStations: row.allStations,
  stations: row.stations.map((id) => id.toLowerCase()).sort(),
});

function setup() {
  const dir = tempDir('chargegate-cli-import-');
  const path = join(dir, 'cg.db');
  return { dir, path, env: { DATABASE_PATH: path, DATABASE_SYNC: 'normal' } };
}

describe('drivers import: a valid file', () => {
  it('imports a 100,000-row CSV through the binary, every driver with its grants', async () => {
    const { dir, path, env } = setup();
    const rows = 100_000;
    const file = writeText(join(dir, 'drivers.csv'), csvText(generatedRows(rows)));

    const result = await runBinary(['drivers', 'import', file], env);

    expect(result.stderr).not.toMatch(/chargegate:/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^imported 100000 rows, skipped 0, in [\d.]+ s \(\d+ rows\/s\)\n$/,
    );
    // Not a terminal: plain progress lines, the last at 100 %.
    expect(result.stderr).toMatch(/^validating: 10% \(\d+ rows, \d+ rows\/s\)$/m);
    expect(result.stderr).toMatch(/^importing: 100% \(100000 rows, \d+ rows\/s\)$/m);
    expect(result.stderr).toMatch(/^validated 100000 rows in [\d.]+ s: 0 bad$/m);
    expect(`${result.stdout}${result.stderr}`).not.toContain('test-driver-');

    expect(count(path, 'drivers')).toBe(rows);
    let grants = 0;
    for (let i = 0; i < rows; i++) grants += generatedRow(i).stations.length;
    expect(count(path, 'driver_stations')).toBe(grants);
    const drivers = await driversAt(path);
    for (const i of [0, 1, 2, 3, 7, 13, 57, 99_998, 99_999]) {
      const row = generatedRow(i);
      expect(await drivers.find(row.driverId)).toEqual(stored(row));
    }
  });

  it('imports a JSON-lines file, blank lines skipped', async () => {
    const { dir, path, env } = setup();
    const rows = [...generatedRows(2_000)];
    const text = jsonlText(rows).replace(/\n/g, (newline, at: number) =>
      at % 7 === 0 ? `${newline}\n   \n` : newline,
    );
    const file = writeText(join(dir, 'drivers.ndjson'), text);

    const result = await runInProcess(['drivers', 'import', file], env);

    expect(result.stderr).not.toMatch(/chargegate:/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^imported 2000 rows, skipped 0,/);
    const drivers = await driversAt(path);
    expect(await all(drivers.exportAll())).toEqual(
      rows.map(stored).sort((a, b) => (a.driverId < b.driverId ? -1 : 1)),
    );
  });

  it('replaces an existing driver wholesale, grants included, and leaves others alone', async () => {
    const { dir, path, env } = setup();
    const drivers = await driversAt(path);
    const replaced = 'replaced-driver-0000000001';
    const untouched = 'untouched-driver-000000001';
    await drivers.importBatch([
      {
        driverId: replaced,
        status: 'active',
        expiresAt: Date.UTC(2030, 0, 1),
        allStations: true,
        stations: [STATIONS[0], STATIONS[1]],
      },
      {
        driverId: untouched,
        status: 'active',
        expiresAt: null,
        allStations: false,
        stations: [STATIONS[0]],
      },
    ]);
    const file = writeText(
      join(dir, 'drivers.csv'),
      `driverId,status,stations\n${replaced},blocked,${STATIONS[2]}\n`,
    );

    const result = await runInProcess(['drivers', 'import', file], env);

    expect(result.code).toBe(0);
    expect(await drivers.find(replaced)).toEqual({
      driverId: replaced,
      status: 'blocked',
      expiresAt: null,
      allStations: false,
      stations: [STATIONS[2]],
    });
    expect((await drivers.find(untouched))?.stations).toEqual([STATIONS[0]]);
  });

  it('commits in batches and keeps the last partial batch', async () => {
    const { dir, path, env } = setup();
    const file = writeText(join(dir, 'drivers.csv'), csvText(generatedRows(1_003)));
    const summary = await driversImportCommand(
      { env, stdout: sink(), stderr: sink(), now: Date.now },
      { file, skipInvalid: false, batchRows: 10 },
    );
    expect(summary).toMatchObject({ rows: 1_003, imported: 1_003, skipped: 0 });
    expect(count(path, 'drivers')).toBe(1_003);
  });
});

function sink() {
  return { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream;
}

/** A 1,000-row CSV with bad rows at known file lines (the header is line 1, row i on line i + 2). */
function fileWithBadRows() {
  const rows: string[] = csvText(generatedRows(1_000)).trimEnd().split('\n');
  const bad = new Map<number, string>();
  const spoil = (line: number, text: string, problem: string) => {
    rows[line - 1] = text;
    bad.set(line, problem);
  };
  spoil(17, 'short-id,active,,false,', 'line 17: driverId must be at least 20 characters long');
  spoil(
    250,
    `${generatedRow(248).driverId},enabled,,maybe,`,
    'line 250: status must be "active" or "blocked"; allStations must be true or false',
  );
  spoil(
    400,
    `${generatedRow(398).driverId},active,,false,${STATIONS[0]};nope`,
    'line 400: stations[1]: stationId must be a UUID in the 8-4-4-4-12 hexadecimal form',
  );
  // A repeat of the driver on line 12 (row 10).
  spoil(
    600,
    `${generatedRow(10).driverId},blocked,,false,`,
    'line 600: driverId appears again (first on line 12)',
  );
  spoil(
    801,
    `${generatedRow(799).driverId},active`,
    'line 801: expected 5 fields as in the header, found 2',
  );
  return { text: `${rows.join('\n')}\n`, bad };
}

describe('drivers import: a file with bad rows', () => {
  it('imports nothing, lists every bad row by line and exits 1', async () => {
    const { dir, path, env } = setup();
    const drivers = await driversAt(path);
    const before = generatedRow(5);
    await drivers.importBatch([{ ...stored(before), status: 'blocked' }]);
    const { text, bad } = fileWithBadRows();
    const file = writeText(join(dir, 'drivers.csv'), text);

    const result = await runBinary(['drivers', 'import', file], env);

    expect(result.code).toBe(1);
    const reported = result.stderr.split('\n').filter((line) => line.startsWith('line '));
    expect(reported).toEqual([...bad.values()]);
    expect(result.stderr).toContain(
      'chargegate: nothing imported: 5 of 1000 rows are bad; fix them, or pass --skip-invalid to import the other 995',
    );
    expect(result.stdout).toBe('');
    expect(count(path, 'drivers')).toBe(1);
    expect((await drivers.find(before.driverId))?.status).toBe('blocked');
  });

  it('with --skip-invalid imports the good rows and counts the skipped ones', async () => {
    const { dir, path, env } = setup();
    const { text, bad } = fileWithBadRows();
    const file = writeText(join(dir, 'drivers.csv'), text);

    const result = await runInProcess(['drivers', 'import', '--skip-invalid', file], env);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^imported 995 rows, skipped 5, in /);
    expect(result.stderr.split('\n').filter((line) => line.startsWith('line '))).toEqual([
      ...bad.values(),
    ]);
    expect(count(path, 'drivers')).toBe(995);
    const drivers = await driversAt(path);
    // Rows 15, 248, 398 and 799 were spoilt; the repeat of row 10 was skipped, not applied.
    for (const i of [15, 248, 398, 799])
      expect(await drivers.find(generatedRow(i).driverId)).toBeUndefined();
    expect(await drivers.find(generatedRow(10).driverId)).toEqual(stored(generatedRow(10)));
    expect(await drivers.find(generatedRow(598).driverId)).toBeUndefined();
    expect(await drivers.find(generatedRow(999).driverId)).toEqual(stored(generatedRow(999)));
  });

  it(`lists at most 50 bad rows, then how many more`, async () => {
    const { dir, env } = setup();
    const lines = csvText(generatedRows(100)).trimEnd().split('\n');
    for (let line = 2; line <= 61; line++) lines[line - 1] = `bad-${line},active,,false,`;
    const file = writeText(join(dir, 'drivers.csv'), `${lines.join('\n')}\n`);

    const result = await runInProcess(['drivers', 'import', file], env);

    expect(result.code).toBe(1);
    const reported = result.stderr.split('\n').filter((line) => line.startsWith('line '));
    expect(reported).toHaveLength(50);
    expect(reported[0]).toBe('line 2: driverId must be at least 20 characters long');
    expect(reported[49]).toMatch(/^line 51: /);
    expect(result.stderr).toContain('… and 10 more bad rows');
    expect(result.stderr).toContain('nothing imported: 60 of 100 rows are bad');
  });

  it('counts file lines across blank lines, CRLF endings and a quoted line break', async () => {
    const { dir, env } = setup();
    const good = (i: number) => csvText([generatedRow(i)]).split('\n')[1];
    const text = [
      'driverId,status,expiresAt,allStations,stations', // 1
      good(0), // 2
      '', // 3
      '   ', // 4
      '"two-line\r\ndriver-id-000000",active,,false,', // 5-6
      good(1), // 7
      'short-id,active,,false,', // 8
      '',
    ].join('\r\n');
    const file = writeText(join(dir, 'drivers.csv'), text);

    const result = await runInProcess(['drivers', 'import', file], env);

    expect(result.stderr.split('\n').filter((line) => line.startsWith('line '))).toEqual([
      "line 5: driverId may only contain A-Z, a-z, 0-9, '-', '.', '_' and '~'",
      'line 8: driverId must be at least 20 characters long',
    ]);
  });

  it('reports JSON lines by their line in the file', async () => {
    const { dir, env } = setup();
    const text = [
      JSON.stringify(generatedRow(0)),
      '',
      '{"driverId": "DRV-0001-ab.cd_ef~0123", "status": "active",',
      JSON.stringify({ ...generatedRow(1), stations: 'all' }),
      JSON.stringify(generatedRow(0)),
    ].join('\n');
    const file = writeText(join(dir, 'drivers.jsonl'), text);

    const result = await runInProcess(['drivers', 'import', file], env);

    expect(result.code).toBe(1);
    expect(result.stderr.split('\n').filter((line) => line.startsWith('line '))).toEqual([
      expect.stringMatching(/^line 3: not valid JSON \(/),
      'line 4: stations must be a list of station UUIDs',
      'line 5: driverId appears again (first on line 1)',
    ]);
  });
});

describe('drivers import: files it cannot use', () => {
  it.each([
    [
      'an unknown column',
      'driverId,status,colour\n',
      /drivers\.csv: line 1: unknown column "colour"/,
    ],
    ['no status column', 'driverId,expiresAt\n', /line 1: the header must name the column status/],
    ['no header at all', '\n\n', /drivers\.csv has no header row/],
    [
      'an unclosed quote',
      `driverId,status\n"${generatedRow(0).driverId},active\n`,
      /drivers\.csv is not valid CSV: Quote Not Closed/,
    ],
  ])('stops at %s with exit code 1', async (_name, text, message) => {
    const { dir, path, env } = setup();
    const file = writeText(join(dir, 'drivers.csv'), text);
    const result = await runInProcess(['drivers', 'import', '--skip-invalid', file], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(count(path, 'drivers')).toBe(0);
  });

  it('says when the file does not exist', async () => {
    const { dir, env } = setup();
    const result = await runInProcess(['drivers', 'import', join(dir, 'missing.csv')], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('missing.csv: no such file');
  });

  it('is a usage error when the format cannot be told from the name', async () => {
    const { dir, env } = setup();
    const file = writeText(join(dir, 'drivers.txt'), csvText(generatedRows(3)));
    const result = await runInProcess(['drivers', 'import', file], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pass --format csv or --format jsonl');

    const forced = await runInProcess(['drivers', 'import', '--format', 'csv', file], env);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^imported 3 rows/);
  });

  it('is a usage error to name an unknown format', async () => {
    const { dir, env } = setup();
    const file = writeText(join(dir, 'drivers.csv'), csvText(generatedRows(3)));
    const result = await runInProcess(['drivers', 'import', '--format', 'xml', file], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/argument 'xml' is invalid/);
  });
});
