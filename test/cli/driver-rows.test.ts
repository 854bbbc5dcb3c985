import { describe, expect, it } from 'vitest';
import {
  CsvHeaderError,
  csvColumns,
  csvLine,
  csvRecordCandidate,
  formatFromPath,
  isBlankCsvRecord,
  jsonLine,
  jsonLineCandidate,
} from '../../src/cli/driver-file-format.ts';
import {
  badRowsReport,
  badRowText,
  checkDriverRow,
  duplicateProblem,
} from '../../src/cli/driver-rows.ts';
import { DRIVER_IMPORT_FIELDS, driverImportRow } from '../../src/domain/driver-import.ts';

const DRIVER = 'DRV-0001-ab.cd_ef~0123';
const STATION = '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50';
const OTHER_STATION = '9B2D6C1E-4F7A-4E0B-8C3D-2A1F5E6B7C80';
const ALL_COLUMNS = [...DRIVER_IMPORT_FIELDS];

/** A CSV row with every column, as trimmed cells, through candidate and schema. */
function checkCsv(cells: Partial<Record<(typeof ALL_COLUMNS)[number], string>>) {
  const row = { driverId: DRIVER, status: 'active', ...cells };
  const candidate = csvRecordCandidate(
    ALL_COLUMNS,
    ALL_COLUMNS.map((column) => row[column] ?? ''),
  );
  if (!candidate.ok) throw new Error(candidate.problem);
  return checkDriverRow(candidate.candidate);
}

const problemsOf = (check: ReturnType<typeof checkDriverRow>) => (check.ok ? [] : check.problems);

describe('CSV rows', () => {
  it.each([
    [
      'the minimal row',
      {},
      { status: 'active', expiresAt: null, allStations: false, stations: [] },
    ],
    ['blocked', { status: 'blocked' }, { status: 'blocked' }],
    [
      'an expiry in UTC',
      { expiresAt: '2027-01-01T00:00:00Z' },
      { expiresAt: Date.UTC(2027, 0, 1) },
    ],
    [
      'an expiry with an offset and milliseconds',
      { expiresAt: '2027-01-01T02:00:00.500+02:00' },
      { expiresAt: Date.UTC(2027, 0, 1) + 500 },
    ],
    ['allStations true', { allStations: 'true' }, { allStations: true }],
    ['allStations TRUE', { allStations: 'TRUE' }, { allStations: true }],
    ['allStations 1', { allStations: '1' }, { allStations: true }],
    ['allStations yes', { allStations: 'Yes' }, { allStations: true }],
    ['allStations false', { allStations: 'false' }, { allStations: false }],
    ['allStations 0', { allStations: '0' }, { allStations: false }],
    ['allStations no', { allStations: 'no' }, { allStations: false }],
    ['one station', { stations: STATION }, { stations: [STATION] }],
    [
      'stations separated by ;',
      { stations: `${STATION};${OTHER_STATION}` },
      { stations: [STATION, OTHER_STATION] },
    ],
    [
      'stations separated by spaces and a trailing ;',
      { stations: `${STATION}  ${OTHER_STATION};` },
      { stations: [STATION, OTHER_STATION] },
    ],
    [
      'stations separated by "; "',
      { stations: `${STATION}; ${OTHER_STATION}` },
      { stations: [STATION, OTHER_STATION] },
    ],
  ])('accepts %s', (_name, cells, expected) => {
    const check = checkCsv(cells);
    expect(problemsOf(check)).toEqual([]);
    expect(check.ok && check.record).toMatchObject({ driverId: DRIVER, ...expected });
  });

  it.each([
    ['no driverId', { driverId: '' }, ['driverId is required']],
    [
      'a short driverId',
      { driverId: 'short-id' },
      ['driverId must be at least 20 characters long'],
    ],
    [
      'a long driverId',
      { driverId: 'x'.repeat(81) },
      ['driverId must be at most 80 characters long'],
    ],
    [
      'a driverId with a space',
      { driverId: 'DRV 0001 ab.cd_ef~0123' },
      ["driverId may only contain A-Z, a-z, 0-9, '-', '.', '_' and '~'"],
    ],
    ['no status', { status: '' }, ['status is required']],
    ['an unknown status', { status: 'enabled' }, ['status must be "active" or "blocked"']],
    ['a status in capitals', { status: 'ACTIVE' }, ['status must be "active" or "blocked"']],
    [
      'an expiry without an offset',
      { expiresAt: '2027-01-01T00:00:00' },
      ['expiresAt must be an ISO 8601 date-time such as 2027-01-01T00:00:00Z, or null'],
    ],
    [
      'a date as expiry',
      { expiresAt: '2027-01-01' },
      ['expiresAt must be an ISO 8601 date-time such as 2027-01-01T00:00:00Z, or null'],
    ],
    ['allStations maybe', { allStations: 'maybe' }, ['allStations must be true or false']],
    [
      'a station that is not a UUID',
      { stations: `${STATION};station-7` },
      ['stations[1]: stationId must be a UUID in the 8-4-4-4-12 hexadecimal form'],
    ],
    [
      'a station separated by a comma inside the cell',
      { stations: `${STATION},${OTHER_STATION}` },
      ['stations[0]: stationId must be a UUID in the 8-4-4-4-12 hexadecimal form'],
    ],
    [
      'two bad fields',
      { driverId: 'short-id', status: 'gone' },
      ['driverId must be at least 20 characters long', 'status must be "active" or "blocked"'],
    ],
  ])('refuses %s, naming the field', (_name, cells, problems) => {
    expect(problemsOf(checkCsv(cells))).toEqual(problems);
  });

  it('reports a row whose field count differs from the header', () => {
    expect(csvRecordCandidate(['driverId', 'status'], [DRIVER, 'active', 'extra'])).toEqual({
      ok: false,
      problem: 'expected 2 fields as in the header, found 3',
    });
    expect(csvRecordCandidate(['driverId', 'status'], [DRIVER])).toEqual({
      ok: false,
      problem: 'expected 2 fields as in the header, found 1',
    });
  });

  it('treats a whitespace-only line as blank and nothing else', () => {
    expect(isBlankCsvRecord([''])).toBe(true);
    expect(isBlankCsvRecord(['', ''])).toBe(false);
    expect(isBlankCsvRecord([DRIVER])).toBe(false);
  });
});

describe('the CSV header', () => {
  it.each([
    [['driverId', 'status', 'expiresAt', 'allStations', 'stations'], ALL_COLUMNS],
    [
      ['status', 'driverId'],
      ['status', 'driverId'],
    ],
    [
      [' DriverID ', 'STATUS', 'stations'],
      ['driverId', 'status', 'stations'],
    ],
  ])('maps %j to fields', (header, columns) => {
    expect(csvColumns(header)).toEqual(columns);
  });

  it.each([
    [['driverId', 'status', 'colour'], /unknown column "colour"/],
    [['driverId', 'status', 'status'], /column "status" appears twice/],
    [['driverId', 'expiresAt'], /must name the column status/],
    [['stations'], /must name the columns driverId and status/],
  ])('refuses %j', (header, message) => {
    expect(() => csvColumns(header)).toThrow(CsvHeaderError);
    expect(() => csvColumns(header)).toThrow(message);
  });

  it('leaves out optional columns the header does not name, with their defaults', () => {
    const candidate = csvRecordCandidate(['status', 'driverId'], ['blocked', DRIVER]);
    expect(candidate).toEqual({ ok: true, candidate: { status: 'blocked', driverId: DRIVER } });
    const check = checkDriverRow(candidate.ok && candidate.candidate);
    expect(check).toEqual({
      ok: true,
      record: {
        driverId: DRIVER,
        status: 'blocked',
        expiresAt: null,
        allStations: false,
        stations: [],
      },
    });
  });
});

describe('JSON lines', () => {
  const check = (line: string) => {
    const candidate = jsonLineCandidate(line);
    if (!candidate) return 'blank';
    return candidate.ok ? problemsOf(checkDriverRow(candidate.candidate)) : [candidate.problem];
  };

  it.each([
    [
      'a full row',
      {
        driverId: DRIVER,
        status: 'active',
        expiresAt: null,
        allStations: true,
        stations: [STATION],
      },
    ],
    ['only the required keys', { driverId: DRIVER, status: 'blocked' }],
    ['an expiry', { driverId: DRIVER, status: 'active', expiresAt: '2027-01-01T00:00:00Z' }],
  ])('accepts %s', (_name, row) => {
    expect(check(JSON.stringify(row))).toEqual([]);
  });

  it.each([
    ['blank', '', 'blank'],
    ['spaces', '   \t', 'blank'],
    ['not JSON', '{driverId:', [expect.stringMatching(/^not valid JSON \(/)]],
    ['an array', '[1,2]', ['a row must be an object']],
    ['a string', '"DRV-0001-ab.cd_ef~0123"', ['a row must be an object']],
    [
      'an unknown key',
      JSON.stringify({ driverId: DRIVER, status: 'active', colour: 'red' }),
      [expect.stringMatching(/^unknown field "colour" \(the fields are driverId, status/)],
    ],
    [
      'allStations as a string',
      JSON.stringify({ driverId: DRIVER, status: 'active', allStations: 'true' }),
      ['allStations must be true or false'],
    ],
    [
      'stations as a string',
      JSON.stringify({ driverId: DRIVER, status: 'active', stations: STATION }),
      ['stations must be a list of station UUIDs'],
    ],
    [
      'expiresAt as a number',
      JSON.stringify({ driverId: DRIVER, status: 'active', expiresAt: 1_800_000_000_000 }),
      ['expiresAt must be an ISO 8601 date-time such as 2027-01-01T00:00:00Z, or null'],
    ],
    [
      'driverId as a number',
      JSON.stringify({ driverId: 1234567890, status: 'active' }),
      ['driverId must be a string'],
    ],
  ])('handles %s', (_name, line, expected) => {
    expect(check(line)).toEqual(expected);
  });
});

describe('writing rows', () => {
  const record = {
    driverId: DRIVER,
    status: 'blocked' as const,
    expiresAt: Date.UTC(2027, 5, 30, 12),
    allStations: false,
    stations: [STATION, OTHER_STATION.toLowerCase()],
  };

  it('writes CSV that reads back to the same record', () => {
    const line = csvLine(driverImportRow(record));
    expect(line).toBe(
      `${DRIVER},blocked,2027-06-30T12:00:00.000Z,false,${STATION};${OTHER_STATION.toLowerCase()}\n`,
    );
    const candidate = csvRecordCandidate(ALL_COLUMNS, line.trimEnd().split(','));
    expect(checkDriverRow(candidate.ok && candidate.candidate)).toEqual({ ok: true, record });
  });

  it('writes JSON lines that read back to the same record', () => {
    const line = jsonLine(driverImportRow({ ...record, expiresAt: null, allStations: true }));
    const candidate = jsonLineCandidate(line);
    expect(candidate?.ok && checkDriverRow(candidate.candidate)).toEqual({
      ok: true,
      record: { ...record, expiresAt: null, allStations: true },
    });
  });
});

describe('file formats', () => {
  it.each([
    ['drivers.csv', 'csv'],
    ['DRIVERS.CSV', 'csv'],
    ['drivers.jsonl', 'jsonl'],
    ['/data/drivers.ndjson', 'jsonl'],
    ['drivers.json', undefined],
    ['drivers', undefined],
    ['drivers.csv.gz', undefined],
  ])('%s is %s', (path, format) => {
    expect(formatFromPath(path)).toBe(format);
  });
});

describe('bad-row reports', () => {
  it('names the line, then every problem of the row', () => {
    expect(badRowText({ line: 17, problems: ['driverId is required', 'status is required'] })).toBe(
      'line 17: driverId is required; status is required',
    );
    expect(badRowText({ line: 9, problems: [duplicateProblem(4)] })).toBe(
      'line 9: driverId appears again (first on line 4)',
    );
  });

  it('counts the rows it does not show', () => {
    const shown = [
      { line: 2, problems: ['a'] },
      { line: 3, problems: ['b'] },
    ];
    expect(badRowsReport(shown, 2)).toEqual(['line 2: a', 'line 3: b']);
    expect(badRowsReport(shown, 3)).toEqual(['line 2: a', 'line 3: b', '… and 1 more bad row']);
    expect(badRowsReport(shown, 12)).toEqual(['line 2: a', 'line 3: b', '… and 10 more bad rows']);
  });
});
