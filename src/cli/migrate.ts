import { appliedMigrationCount, migrateDatabase, shippedMigrations } from '../db/database.ts';
import { type CliContext, cliConfig, openCliDatabase } from './open.ts';

/** `chargegate migrate`: applies pending migrations and says which. */

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

export function migrationSummary(
  path: string,
  before: number,
  after: number,
  names: readonly string[],
): string {
  if (after === before) {
    return `${path} is up to date (${plural(after, 'migration')} applied, none pending)`;
  }
  const applied = names.slice(before, after);
  return `applied ${plural(after - before, 'migration')} to ${path}: ${applied.join(', ')}`;
}

export function migrateCommand(ctx: CliContext): void {
  const config = cliConfig(ctx);
  const db = openCliDatabase(config);
  try {
    const before = appliedMigrationCount(db);
    migrateDatabase(db);
    const after = appliedMigrationCount(db);
    ctx.stdout.write(
      `${migrationSummary(config.databasePath, before, after, shippedMigrations())}\n`,
    );
  } finally {
    db.$client.close();
  }
}
