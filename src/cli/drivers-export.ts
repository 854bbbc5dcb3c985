import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { driverImportRow } from '../domain/driver-import.ts';
import {
  csvHeaderLine,
  csvLine,
  type DriverFileFormat,
  formatFromPath,
  jsonLine,
} from './driver-file-format.ts';
import { CliError } from './errors.ts';
import { type CliContext, cliConfig, requireExistingDatabase, withStore } from './open.ts';
import type { Output } from './progress.ts';

/**
 * `chargegate drivers export`: every driver with its grants, in a file `drivers import` reads
 * back unchanged. A file is written under a temporary name and renamed when complete, so an
 * interrupted export never leaves a partial file behind under the requested name.
 */

export type ExportOptions = { format?: DriverFileFormat; output?: string };

const CHUNK_CHARS = 64 * 1024;

/** `--format`, else the output file's extension, else CSV. */
export function exportFormat(
  format: DriverFileFormat | undefined,
  output: string | undefined,
): DriverFileFormat {
  return format ?? (output === undefined ? undefined : formatFromPath(output)) ?? 'csv';
}

function writeFailure(error: unknown, name: string): CliError {
  return (error as NodeJS.ErrnoException).code === 'EPIPE'
    ? new CliError('the output was closed before the export finished')
    : new CliError(`cannot write ${name}: ${(error as Error).message}`);
}

/** Writes with backpressure; a stream error becomes a CliError at the next write. */
function chunkedWriter(stream: Output, name: string) {
  let failure: Error | undefined;
  const remember = (error: Error) => {
    failure ??= error;
  };
  stream.on('error', remember);
  return {
    async write(text: string): Promise<void> {
      try {
        if (failure) throw failure;
        if (!stream.write(text)) await once(stream, 'drain');
        if (failure) throw failure;
      } catch (error) {
        throw writeFailure(error, name);
      }
    },
    release(): void {
      stream.off('error', remember);
    },
  };
}

export async function driversExportCommand(
  ctx: CliContext,
  options: ExportOptions,
): Promise<number> {
  const format = exportFormat(options.format, options.output);
  const config = cliConfig(ctx);
  requireExistingDatabase(config);
  const temporary =
    options.output === undefined ? undefined : `${options.output}.${process.pid}.partial`;
  const file = temporary === undefined ? undefined : createWriteStream(temporary);
  const target: Output = file ?? ctx.stdout;
  const writer = chunkedWriter(target, options.output ?? 'stdout');
  const line = format === 'csv' ? csvLine : jsonLine;
  try {
    const count = await withStore(config, ctx, async (store) => {
      let chunk = format === 'csv' ? csvHeaderLine() : '';
      let count = 0;
      for await (const record of store.drivers.exportAll()) {
        chunk += line(driverImportRow(record));
        count++;
        if (chunk.length >= CHUNK_CHARS) {
          await writer.write(chunk);
          chunk = '';
        }
      }
      await writer.write(chunk);
      return count;
    });
    if (file && temporary !== undefined && options.output !== undefined) {
      try {
        file.end();
        await once(file, 'close');
        await rename(temporary, options.output);
      } catch (error) {
        throw writeFailure(error, options.output);
      }
    }
    ctx.stderr.write(
      `exported ${count} driver${count === 1 ? '' : 's'} as ${format}${options.output === undefined ? '' : ` to ${options.output}`}\n`,
    );
    return count;
  } catch (error) {
    if (file && temporary !== undefined) {
      file.destroy();
      await rm(temporary, { force: true });
    }
    throw error;
  } finally {
    writer.release();
  }
}
