import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/store.ts';
import { sqliteTestDatabase } from '../../helpers/database.ts';
import { tempDir } from '../../helpers/process.ts';

/**
 * Operator writes run on the main thread's connection while the writer thread commits intake and
 * claims: they must wait for the write lock, never fail because a commit overtook their read.
 */

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

const input = {
  stationId: '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50',
  driverId: 'DRV-0001-ab.cd_ef~0123',
  callbackUrl: 'https://example.com/cb',
};

describe('operator writes on SQLite while the writer thread commits', () => {
  it('all succeed: upsert, grant and revoke wait for the lock instead of failing', async () => {
    const database = sqliteTestDatabase(`${tempDir()}/cg.db`);
    store = database.openStore();
    await store.migrate();
    const open = store;
    await open.requests.create(input); // the writer thread is up
    let stop = false;
    // Intake all the time: a commit of the writer thread at almost any moment.
    const intake = (async () => {
      let rounds = 0;
      while (!stop) {
        await Promise.all(Array.from({ length: 5 }, () => open.requests.create(input)));
        rounds++;
      }
      return rounds;
    })();
    const failures: unknown[] = [];
    for (let i = 0; i < 100; i++) {
      const driverId = `DRV-${String(i).padStart(4, '0')}-operator-write`;
      await open.drivers
        .upsert(driverId, { status: 'active' })
        .then(() => open.drivers.grant(driverId, input.stationId))
        .then(() => open.drivers.revoke(driverId, input.stationId))
        .catch((error: unknown) => failures.push(error));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    stop = true;
    expect(await intake).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  });
});
