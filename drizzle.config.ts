import { defineConfig } from 'drizzle-kit';

/**
 * One config for both dialects: `DRIZZLE_DIALECT=postgresql` selects PostgreSQL, anything else
 * SQLite. `npm run db:generate` runs both; `npm run db:check` fails when either schema has
 * changes that no migration holds yet.
 */
const postgres = process.env.DRIZZLE_DIALECT === 'postgresql';

export default postgres
  ? defineConfig({
      dialect: 'postgresql',
      schema: './src/store/postgres/schema.ts',
      out: './migrations/postgres',
      dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://127.0.0.1:5432/chargegate' },
    })
  : defineConfig({
      dialect: 'sqlite',
      schema: './src/store/sqlite/schema.ts',
      out: './migrations/sqlite',
      dbCredentials: { url: process.env.DATABASE_PATH ?? './data/chargegate.db' },
    });
