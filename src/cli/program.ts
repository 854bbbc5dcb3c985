import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../config.ts';
import { MigrationError } from '../store/migration-error.ts';
import { packageVersion } from '../version.ts';
import { callbacksRecoverCommand } from './callbacks-recover.ts';
import { DRIVER_FILE_FORMATS, type DriverFileFormat } from './driver-file-format.ts';
import { driversExportCommand } from './drivers-export.ts';
import { BAD_ROWS_SHOWN, driversImportCommand, IMPORT_BATCH_ROWS } from './drivers-import.ts';
import { CliError, EXIT_CODES } from './errors.ts';
import { migrateCommand } from './migrate.ts';
import type { CliContext } from './open.ts';
import { secretShowCommand } from './secret-show.ts';

/** The `chargegate` command line: commands, their help, and how each way of ending maps to an exit code. */

const examples = (...lines: string[]) =>
  `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;

const ENVIRONMENT = `
Configuration comes from the same environment variables as the server, among them:
  DATABASE_PATH   SQLite file (default ./data/chargegate.db)
  DATABASE_SYNC   full | normal (default full)
  WEBHOOK_SECRET  signing secret; unset = the one kept in the database
  PORT, HOST, LOG_LEVEL, AUTHORIZER_*, ADMIN_TOKEN, CALLBACK_*, WORKER_*  (serve and worker)

Exit codes: 0 done, 1 failed, 2 usage error, 78 bad configuration.
`;

const IMPORT_FIELDS = `
Fields (CSV columns / JSON keys):
  driverId     20-80 characters from A-Z a-z 0-9 - . _ ~             required
  status       active | blocked                                      required
  expiresAt    ISO 8601 date-time with offset (2027-01-01T00:00:00Z); empty or null = never
  allStations  CSV: true/false, 1/0 or yes/no; JSON: a boolean;      empty or missing = false
  stations     CSV: station UUIDs separated by ";" or spaces; JSON: an array; may be empty

CSV: a header row names the columns, in any order (driverId and status are required).
JSON lines: one object per line; blank lines are skipped.
A malformed CSV file (e.g. an unclosed quote) stops the import, even with --skip-invalid.`;

const formatOption = (what: string) =>
  new Option('--format <format>', what).choices(DRIVER_FILE_FORMATS);

async function startServer(options: { http: boolean; worker: boolean }): Promise<void> {
  // Loaded only here: the other commands do not need the HTTP stack.
  const { serve } = await import('../serve.ts');
  await serve(options);
}

export function createProgram(ctx: CliContext): Command {
  const program = new Command('chargegate')
    .description(
      'Authorizes EV charging session requests and delivers the signed decisions to callback URLs.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.stdout.write(text),
      writeErr: (text) => ctx.stderr.write(text),
    })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', ENVIRONMENT);

  program
    .command('serve')
    .summary('serve the HTTP API and run the callback worker')
    .description(
      'Apply pending migrations, then serve the HTTP API and run the callback worker, until SIGTERM or SIGINT.',
    )
    .option('--no-worker', 'serve HTTP only; callbacks are sent by a separate `chargegate worker`')
    .addHelpText(
      'after',
      examples(
        'chargegate serve',
        'PORT=8080 DATABASE_PATH=/var/lib/chargegate/cg.db chargegate serve --no-worker',
      ),
    )
    .action((options: { worker: boolean }) => startServer({ http: true, worker: options.worker }));

  program
    .command('worker')
    .summary('run the callback worker alone, without HTTP')
    .description(
      'Apply pending migrations, then run the callback worker alone (no HTTP): it decides and delivers the callbacks of requests stored by `chargegate serve --no-worker`.',
    )
    .addHelpText(
      'after',
      examples(
        'chargegate worker',
        'DATABASE_PATH=/var/lib/chargegate/cg.db WORKER_CONCURRENCY=128 chargegate worker',
      ),
    )
    .action(() => startServer({ http: false, worker: true }));

  program
    .command('migrate')
    .summary('apply pending database migrations')
    .description('Apply pending database migrations, say which, and exit.')
    .addHelpText(
      'after',
      examples('chargegate migrate', 'DATABASE_PATH=/var/lib/chargegate/cg.db chargegate migrate'),
    )
    .action(() => migrateCommand(ctx));

  const drivers = program
    .command('drivers')
    .summary('bulk import and export of the built-in driver ACL')
    .description(
      'Bulk import and export of the built-in driver ACL (drivers and their granted stations).',
    );

  drivers
    .command('import')
    .summary('create or replace drivers, grants included, from a CSV or JSON-lines file')
    .description(
      `Create or replace drivers, grants included, from a CSV or JSON-lines file.\n\nEvery row is validated first; without --skip-invalid, one bad row means nothing is imported. Bad rows are listed by file line (the CSV header is line 1), at most ${BAD_ROWS_SHOWN} of them. A driverId seen twice makes the later row bad. The good rows are then upserted ${IMPORT_BATCH_ROWS.toLocaleString('en-US')} per transaction, so a running server keeps working during the import.`,
    )
    .argument('<file>', 'the file to import (.csv, .jsonl or .ndjson)')
    .addOption(formatOption('file format (default: from the file extension)'))
    .option('--skip-invalid', 'import the good rows and skip the bad ones', false)
    .addHelpText('after', IMPORT_FIELDS)
    .addHelpText(
      'after',
      examples(
        'chargegate drivers import drivers.csv',
        'chargegate drivers import --skip-invalid drivers.jsonl',
        'chargegate drivers import --format csv export-2026-01-01.txt',
      ),
    )
    .action(async (file: string, options: { format?: DriverFileFormat; skipInvalid: boolean }) => {
      await driversImportCommand(ctx, { file, ...options });
    });

  drivers
    .command('export')
    .summary('write every driver and its grants as CSV or JSON lines')
    .description(
      'Write every driver with its granted stations, in driverId order, in a file that `drivers import` reads back unchanged.',
    )
    .addOption(formatOption('file format (default: from the --output extension, else csv)'))
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .addHelpText(
      'after',
      examples(
        'chargegate drivers export > drivers.csv',
        'chargegate drivers export --format jsonl --output drivers.jsonl',
      ),
    )
    .action(async (options: { format?: DriverFileFormat; output?: string }) => {
      await driversExportCommand(ctx, options);
    });

  const callbacks = program
    .command('callbacks')
    .summary('operations on callbacks')
    .description('Operations on the callbacks of charging session requests.');

  callbacks
    .command('recover')
    .summary('re-queue failed callbacks of requests created in a time window')
    .description(
      'Re-queue the failed callbacks of requests created in [--since, --until) with a fresh retry schedule. A running worker sends them at its next poll.',
    )
    .requiredOption('--since <instant>', 'ISO 8601 date-time with offset, or a date (midnight UTC)')
    .option('--until <instant>', 'end of the window, exclusive (default: now)')
    .addHelpText(
      'after',
      examples(
        'chargegate callbacks recover --since 2026-03-01T00:00:00Z',
        'chargegate callbacks recover --since 2026-03-01 --until 2026-03-02',
      ),
    )
    .action((options: { since: string; until?: string }) => callbacksRecoverCommand(ctx, options));

  const secret = program
    .command('secret')
    .summary('the webhook signing secret')
    .description('The secret that signs callbacks (Standard Webhooks).');

  secret
    .command('show')
    .summary('print the webhook signing secret in force')
    .description(
      'Print the webhook signing secret in force (WEBHOOK_SECRET, else the one kept in the database, generated on first use). Only the secret goes to stdout; where it came from goes to stderr.',
    )
    .addHelpText(
      'after',
      examples('chargegate secret show', 'RECEIVER_SECRET="$(chargegate secret show 2>/dev/null)"'),
    )
    .action(() => secretShowCommand(ctx));

  return program;
}

/** Prints what went wrong (commander has already printed its own errors) and picks the exit code. */
export function exitCodeFor(error: unknown, ctx: CliContext): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
  }
  if (error instanceof ConfigError) {
    ctx.stderr.write(`chargegate: ${error.message}\n`);
    return EXIT_CODES.config;
  }
  if (error instanceof CliError || error instanceof MigrationError) {
    ctx.stderr.write(`chargegate: ${error.message}\n`);
    return error instanceof CliError ? error.exitCode : EXIT_CODES.failure;
  }
  const verbose = ctx.env.LOG_LEVEL === 'debug' || ctx.env.LOG_LEVEL === 'trace';
  const detail = error instanceof Error ? (verbose ? error.stack : error.message) : String(error);
  ctx.stderr.write(`chargegate: unexpected error: ${detail}\n`);
  return EXIT_CODES.failure;
}

/** Runs one command line (without `node` and the script); answers the exit code. */
export async function run(args: readonly string[], ctx: CliContext): Promise<number> {
  try {
    await createProgram(ctx).parseAsync([...args], { from: 'user' });
    return EXIT_CODES.ok;
  } catch (error) {
    return exitCodeFor(error, ctx);
  }
}
