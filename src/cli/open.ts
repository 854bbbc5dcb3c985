import { existsSync } from 'node:fs';
import { type Config, loadConfig } from '../config.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { CliError } from './errors.ts';
import type { Output } from './progress.ts';

/** What every command runs with; tests pass their own streams, environment and clock. */
export type CliContext = {
  env: Record<string, string | undefined>;
  stdout: Output;
  stderr: Output;
  now: () => number;
};

/** The server's configuration, from the same variables. Throws a ConfigError on a bad value. */
export function cliConfig(ctx: CliContext): Config {
  return loadConfig(ctx.env);
}

/** Opens the configured store; a database that cannot be opened is a CliError naming it. */
export function openCliStore(config: Config, ctx: CliContext): Store {
  try {
    return openStore(config, { now: ctx.now });
  } catch (error) {
    throw new CliError(
      `cannot open the database at ${config.databasePath}: ${(error as Error).message}`,
    );
  }
}

/**
 * A command that reads refuses a database file that is not there: opening it would create an
 * empty one, and the command would answer from it (a new secret, no drivers) as if it were the
 * server's.
 */
export function requireExistingDatabase(config: Config): void {
  if (config.databaseUrl !== undefined) return; // PostgreSQL never creates a database on connect
  const path = config.databasePath;
  const isFile = path !== ':memory:' && !path.startsWith('file:');
  if (!isFile || existsSync(path)) return;
  throw new CliError(
    `there is no database at ${path}: set DATABASE_PATH to the server's database file (\`chargegate migrate\` or \`chargegate serve\` creates a new one)`,
  );
}

/**
 * Runs `use` on the configured store, migrated first as the server would, and closes it
 * afterwards whatever happens.
 */
export async function withStore<T>(
  config: Config,
  ctx: CliContext,
  use: (store: Store) => T | Promise<T>,
): Promise<T> {
  const store = openCliStore(config, ctx);
  try {
    await store.migrate();
    return await use(store);
  } finally {
    await store.close();
  }
}
