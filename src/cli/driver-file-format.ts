import { extname } from 'node:path';
import {
  DRIVER_IMPORT_FIELDS,
  type DriverImportField,
  type DriverImportRow,
} from '../domain/driver-import.ts';

/**
 * The two driver file formats, both ways, without I/O. Reading turns a CSV record or a JSON
 * line into a candidate object for `driverImportRowSchema`; the schema alone decides validity.
 *
 * CSV: a header row naming the columns (any order, any case; `driverId` and `status` required),
 * then one driver per row. Empty cells: `expiresAt` = never expires, `allStations` = false,
 * `stations` = none. `allStations` is true/false, 1/0 or yes/no. `stations` lists station UUIDs
 * separated by `;` and/or spaces.
 *
 * JSON lines: one object per line with the same keys; `stations` an array, `expiresAt` a string
 * or null, `allStations` a boolean. Blank lines are skipped.
 */

export const DRIVER_FILE_FORMATS = ['csv', 'jsonl'] as const;
export type DriverFileFormat = (typeof DRIVER_FILE_FORMATS)[number];

const FORMAT_BY_EXTENSION: Readonly<Record<string, DriverFileFormat>> = {
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
};

export function formatFromPath(path: string): DriverFileFormat | undefined {
  return FORMAT_BY_EXTENSION[extname(path).toLowerCase()];
}

export type Candidate = { ok: true; candidate: unknown } | { ok: false; problem: string };

const REQUIRED_COLUMNS: readonly DriverImportField[] = ['driverId', 'status'];

export class CsvHeaderError extends Error {
  override name = 'CsvHeaderError';
}

/** The field each column holds, from the header row. Throws a CsvHeaderError saying what is wrong. */
export function csvColumns(header: readonly string[]): DriverImportField[] {
  const byName = new Map(DRIVER_IMPORT_FIELDS.map((field) => [field.toLowerCase(), field]));
  const columns: DriverImportField[] = [];
  for (const name of header) {
    const field = byName.get(name.trim().toLowerCase());
    if (!field) {
      throw new CsvHeaderError(
        `unknown column ${JSON.stringify(name)} in the header (the columns are ${DRIVER_IMPORT_FIELDS.join(', ')})`,
      );
    }
    if (columns.includes(field)) {
      throw new CsvHeaderError(`column ${JSON.stringify(field)} appears twice in the header`);
    }
    columns.push(field);
  }
  const missing = REQUIRED_COLUMNS.filter((field) => !columns.includes(field));
  if (missing.length > 0) {
    throw new CsvHeaderError(
      `the header must name the column${missing.length > 1 ? 's' : ''} ${missing.join(' and ')} (it names ${header.join(', ') || 'nothing'})`,
    );
  }
  return columns;
}

/** A line holding nothing but whitespace, as csv-parse (with `trim`) returns it. */
export function isBlankCsvRecord(cells: readonly string[]): boolean {
  return cells.length === 1 && cells[0] === '';
}

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
};

const STATION_SEPARATOR = /[;\s]+/;

function csvCell(field: DriverImportField, cell: string): unknown {
  switch (field) {
    case 'driverId':
    case 'status':
      // Absent rather than empty, so that the schema says "is required".
      return cell === '' ? undefined : cell;
    case 'expiresAt':
      return cell === '' ? null : cell;
    case 'allStations':
      // An unknown word stays a string, so that the schema reports it.
      return cell === '' ? undefined : (BOOLEAN_WORDS[cell.toLowerCase()] ?? cell);
    case 'stations':
      return cell === '' ? [] : cell.split(STATION_SEPARATOR).filter((id) => id !== '');
  }
}

/** A CSV record (trimmed cells) as a candidate row. */
export function csvRecordCandidate(
  columns: readonly DriverImportField[],
  cells: readonly string[],
): Candidate {
  if (cells.length !== columns.length) {
    return {
      ok: false,
      problem: `expected ${columns.length} fields as in the header, found ${cells.length}`,
    };
  }
  const candidate: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) {
    const value = csvCell(columns[i] as DriverImportField, cells[i] as string);
    if (value !== undefined) candidate[columns[i] as DriverImportField] = value;
  }
  return { ok: true, candidate };
}

/** A JSON line as a candidate row, or undefined for a blank line. */
export function jsonLineCandidate(line: string): Candidate | undefined {
  if (line.trim() === '') return undefined;
  try {
    return { ok: true, candidate: JSON.parse(line) };
  } catch (error) {
    return { ok: false, problem: `not valid JSON (${(error as Error).message})` };
  }
}

export function csvHeaderLine(): string {
  return `${DRIVER_IMPORT_FIELDS.join(',')}\n`;
}

/** Quotes a cell only when it has to be; valid rows never need it. */
function csvCellText(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(row: Required<DriverImportRow>): string {
  return `${[
    csvCellText(row.driverId),
    csvCellText(row.status),
    csvCellText(row.expiresAt ?? ''),
    row.allStations ? 'true' : 'false',
    csvCellText(row.stations.join(';')),
  ].join(',')}\n`;
}

export function jsonLine(row: Required<DriverImportRow>): string {
  return `${JSON.stringify(row)}\n`;
}
