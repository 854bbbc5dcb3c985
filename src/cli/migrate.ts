import { type CliContext, cliConfig, openCliStore } from './open.ts';

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

export async function migrateCommand(ctx: CliContext): Promise<void> {
  const config = cliConfig(ctx);
  const store = openCliStore(config, ctx);
  try {
    const { applied: before, shipped } = await store.migrations();
    const applied = await store.migrate();
    ctx.stdout.write(
      `${migrationSummary(store.location, before, before + applied.length, shipped)}\n`,
    );
  } finally {
    await store.close();
  }
}
