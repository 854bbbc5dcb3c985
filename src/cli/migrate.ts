import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Database, MIGRATIONS_FOLDER, migrateDatabase } from '../db/database.ts';
import { type CliContext, cliConfig, openCliDatabase } from './open.ts';

/** `chargegate migrate`: applies pending migrations and says which. */

/** Where drizzle's migrator records each migration it applied, one row per migration. */
const MIGRATIONS_TABLE = '__drizzle_migrations';

function appliedCount(db: Database): number {
  const exists = db.$client
    .prepare("select 1 from sqlite_master where type = 'table' and name = ?")
    .get(MIGRATIONS_TABLE);
  if (!exists) return 0;
  return db.$client.prepare(`select count(*) from ${MIGRATIONS_TABLE}`).pluck().get() as number;
}

/** The migrations shipped with this version, oldest first. */
function migrationNames(): string[] {
  const journal = JSON.parse(
    readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8'),
  ) as { entries: Array<{ tag: string }> };
  return journal.entries.map((entry) => entry.tag);
}

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
    const before = appliedCount(db);
    migrateDatabase(db);
    const after = appliedCount(db);
    ctx.stdout.write(`${migrationSummary(config.databasePath, before, after, migrationNames())}\n`);
  } finally {
    db.$client.close();
  }
}
