import { openStore } from '../src/store/open-store.ts';
import { databaseUrl, TEMPLATE, withAdmin } from './helpers/postgres.ts';

/** Makes the migrated template every PostgreSQL test database is copied from. */
export default async function setup(): Promise<void> {
  await withAdmin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${TEMPLATE}`);
  });
  const store = openStore({
    databaseUrl: databaseUrl(TEMPLATE),
    databasePath: '',
    databaseSync: 'normal',
  });
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
}
