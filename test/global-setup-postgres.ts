import { randomBytes } from 'node:crypto';
import { openStore } from '../src/store/open-store.ts';
import { databaseUrl, withAdmin } from './helpers/postgres.ts';

/**
 * Makes the migrated template every PostgreSQL test database of this run is copied from, and
 * drops it at the end. Its name reaches the test processes through the environment they inherit.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const template = `chargegate_test_template_${randomBytes(4).toString('hex')}`;
  process.env.CHARGEGATE_TEST_TEMPLATE = template;
  await withAdmin((client) => client.query(`CREATE DATABASE ${template}`));
  const store = openStore({
    databaseUrl: databaseUrl(template),
    databasePath: '',
    databaseSync: 'normal',
  });
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
  return async () => {
    await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`));
  };
}
