import type { DriverImportRecord } from '../domain/driver-import.ts';
import type { Store } from '../store/store.ts';
import { type DriverFileFormat, formatFromPath } from './driver-file-format.ts';
import { type BadRow, badRowsReport, checkDriverRow, duplicateProblem } from './driver-rows.ts';
import { CliError, usageError } from './errors.ts';
import { type CliContext, cliConfig, withStore } from './open.ts';
import { createProgress, rowsPerSecond } from './progress.ts';
import { driverFileSize, readDriverFile } from './read-driver-file.ts';

/**
 * `chargegate drivers import FILE`, in two passes. The first validates every row and keeps only
 * what the second needs (the bad lines; the driver ids, to find duplicates). The second upserts
 * the good rows in short transactions, so a running server's writes interleave with the import.
 * Without `skipInvalid`, one bad row means nothing is imported.
 */

/** Rows per transaction: short enough that a running server waits at most a few milliseconds. */
export const IMPORT_BATCH_ROWS = 1_000;
/** Bad rows listed in full; the rest are counted. */
export const BAD_ROWS_SHOWN = 50;

export type ImportOptions = {
  file: string;
  format?: DriverFileFormat;
  skipInvalid: boolean;
  batchRows?: number;
};

export type ImportSummary = { rows: number; imported: number; skipped: number; elapsedMs: number };

export function importFormat(file: string, format: DriverFileFormat | undefined): DriverFileFormat {
  const found = format ?? formatFromPath(file);
  if (!found) {
    throw usageError(
      `cannot tell the format of ${file} from its name (.csv, .jsonl or .ndjson): pass --format csv or --format jsonl`,
    );
  }
  return found;
}

type Validation = {
  rows: number;
  badLines: Set<number>;
  shown: BadRow[];
};

async function validateFile(
  ctx: CliContext,
  file: string,
  format: DriverFileFormat,
): Promise<Validation> {
  const progress = createProgress({
    stream: ctx.stderr,
    label: 'validating',
    total: await driverFileSize(file),
    now: ctx.now,
  });
  const firstLineOf = new Map<string, number>();
  const badLines = new Set<number>();
  const shown: BadRow[] = [];
  const bad = (line: number, problems: readonly string[]) => {
    badLines.add(line);
    if (shown.length < BAD_ROWS_SHOWN) shown.push({ line, problems });
  };
  try {
    const rows = await readDriverFile(
      file,
      format,
      (row) => {
        if (!row.ok) return bad(row.line, [row.problem]);
        const check = checkDriverRow(row.candidate);
        if (!check.ok) return bad(row.line, check.problems);
        const first = firstLineOf.get(check.record.driverId);
        if (first !== undefined) return bad(row.line, [duplicateProblem(first)]);
        firstLineOf.set(check.record.driverId, row.line);
      },
      { onProgress: (bytes, rows) => progress.update(bytes, rows) },
    );
    return { rows, badLines, shown };
  } finally {
    progress.stop();
  }
}

async function importRows(
  ctx: CliContext,
  store: Store,
  options: ImportOptions & { format: DriverFileFormat },
  validation: Validation,
): Promise<number> {
  const batchRows = options.batchRows ?? IMPORT_BATCH_ROWS;
  const expected = validation.rows - validation.badLines.size;
  const progress = createProgress({
    stream: ctx.stderr,
    label: 'importing',
    total: expected,
    now: ctx.now,
  });
  let batch: DriverImportRecord[] = [];
  let imported = 0;
  const flush = async () => {
    const records = batch;
    batch = [];
    await store.drivers.importBatch(records);
    imported += records.length;
    progress.update(imported, imported);
  };
  const changed = (detail: string) =>
    new CliError(
      `${options.file} changed while it was being imported (${detail}); ${imported} rows were imported`,
    );
  try {
    await readDriverFile(options.file, options.format, (row) => {
      if (validation.badLines.has(row.line)) return;
      const check = row.ok ? checkDriverRow(row.candidate) : undefined;
      if (!check?.ok) throw changed(`line ${row.line} is now bad`);
      batch.push(check.record);
      if (batch.length >= batchRows) return flush();
    });
    if (batch.length > 0) await flush();
  } finally {
    progress.stop();
  }
  if (imported !== expected) throw changed(`expected ${expected} good rows, found ${imported}`);
  return imported;
}

export async function driversImportCommand(
  ctx: CliContext,
  options: ImportOptions,
): Promise<ImportSummary> {
  const format = importFormat(options.file, options.format);
  const config = cliConfig(ctx);
  const startedAt = ctx.now();
  return withStore(config, ctx, async (store) => {
    const validation = await validateFile(ctx, options.file, format);
    const skipped = validation.badLines.size;
    const good = validation.rows - skipped;
    ctx.stderr.write(
      `validated ${validation.rows} rows in ${seconds(ctx.now() - startedAt)}: ${skipped} bad\n`,
    );
    if (skipped > 0) {
      for (const line of badRowsReport(validation.shown, skipped)) ctx.stderr.write(`${line}\n`);
      if (!options.skipInvalid) {
        throw new CliError(
          `nothing imported: ${skipped} of ${validation.rows} rows are bad; fix them, or pass --skip-invalid to import the other ${good}`,
        );
      }
    }
    const imported = await importRows(ctx, store, { ...options, format }, validation);
    const elapsedMs = ctx.now() - startedAt;
    ctx.stdout.write(
      `imported ${imported} rows, skipped ${skipped}, in ${seconds(elapsedMs)} (${rowsPerSecond(imported, elapsedMs)} rows/s)\n`,
    );
    return { rows: validation.rows, imported, skipped, elapsedMs };
  });
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
