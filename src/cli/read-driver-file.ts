import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import type { DriverImportField } from '../domain/driver-import.ts';
import {
  type Candidate,
  CsvHeaderError,
  csvColumns,
  csvRecordCandidate,
  type DriverFileFormat,
  isBlankCsvRecord,
  jsonLineCandidate,
} from './driver-file-format.ts';
import { CliError } from './errors.ts';

/** Streams a driver file row by row; nothing but the current chunk is held in memory. */

/** A row and the file line it starts on (1-based, the CSV header counted). */
export type FileRow = Candidate & { line: number };

export type ReadOptions = {
  /** Called every `PROGRESS_EVERY` rows and at the end with the bytes read so far. */
  onProgress?: (bytesRead: number, rows: number) => void;
};

const PROGRESS_EVERY = 1000;
const CHUNK_BYTES = 1 << 20;

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

/** The size of a readable regular file, or a CliError saying why it cannot be read. */
export async function driverFileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new CliError(`cannot read ${path}: not a regular file`);
    return info.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    throw new CliError(`cannot read ${path}: ${REASONS[code] ?? (error as Error).message}`);
  }
}

/**
 * Calls `visit` for every row of the file in order, waiting for it when it answers a promise;
 * answers how many rows there were.
 */
export async function readDriverFile(
  path: string,
  format: DriverFileFormat,
  visit: (row: FileRow) => void | Promise<void>,
  options: ReadOptions = {},
): Promise<number> {
  await driverFileSize(path);
  return format === 'csv' ? readCsv(path, visit, options) : readJsonLines(path, visit, options);
}

function newlinesIn(cells: readonly string[]): number {
  let count = 0;
  for (const cell of cells) {
    for (let at = cell.indexOf('\n'); at !== -1; at = cell.indexOf('\n', at + 1)) count++;
  }
  return count;
}

function headerColumns(path: string, line: number, cells: string[]): DriverImportField[] {
  try {
    return csvColumns(cells);
  } catch (error) {
    if (error instanceof CsvHeaderError)
      throw new CliError(`${path}: line ${line}: ${error.message}`);
    throw error;
  }
}

async function readCsv(
  path: string,
  visit: (row: FileRow) => void | Promise<void>,
  { onProgress }: ReadOptions,
): Promise<number> {
  const source = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  // Line numbers are counted here: csv-parse's `info` option slows parsing markedly, and its
  // count is off after a quoted line break.
  const parser = parse({ bom: true, trim: true, relax_column_count: true });
  let nextLine = 1;
  let columns: DriverImportField[] | undefined;
  let rows = 0;
  try {
    await pipeline(source, parser, async (records: AsyncIterable<string[]>) => {
      for await (const cells of records) {
        const line = nextLine;
        nextLine += 1 + newlinesIn(cells);
        if (isBlankCsvRecord(cells)) continue;
        if (!columns) {
          columns = headerColumns(path, line, cells);
          continue;
        }
        const visited = visit({ line, ...csvRecordCandidate(columns, cells) });
        if (visited) await visited;
        if (++rows % PROGRESS_EVERY === 0) onProgress?.(source.bytesRead, rows);
      }
    });
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('CSV_')) {
      throw new CliError(`${path} is not valid CSV: ${(error as Error).message}`);
    }
    throw error;
  }
  if (!columns) throw new CliError(`${path} has no header row`);
  onProgress?.(source.bytesRead, rows);
  return rows;
}

async function readJsonLines(
  path: string,
  visit: (row: FileRow) => void | Promise<void>,
  { onProgress }: ReadOptions,
): Promise<number> {
  const source = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  const lines = createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  let rows = 0;
  try {
    for await (const text of lines) {
      line++;
      const candidate = jsonLineCandidate(line === 1 ? text.replace(/^\uFEFF/, '') : text);
      if (!candidate) continue;
      const visited = visit({ line, ...candidate });
      if (visited) await visited;
      if (++rows % PROGRESS_EVERY === 0) onProgress?.(source.bytesRead, rows);
    }
  } finally {
    source.destroy();
  }
  onProgress?.(source.bytesRead, rows);
  return rows;
}
