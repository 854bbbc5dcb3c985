import { copyFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../src/store/open-store.ts';
import type { Store } from '../../../src/store/store.ts';
import { tempDir } from '../../helpers/process.ts';

/**
 * `test/fixtures/chargegate-0.1.0.db` was written by release 0.1.0 (three requests, one per
 * decision, each with a failed attempt; two drivers; idempotency keys). Today's migrations must
 * carry it forward with every row intact.
 */
const FIXTURE = new URL('../../fixtures/chargegate-0.1.0.db', import.meta.url).pathname;
const WRITTEN = Date.parse('2026-11-25T13:35:43Z');
const ALLOWED = '01a212eb-574d-7431-9eec-140f661aa545';
const BLOCKED = '01a212eb-575d-71a3-a9d9-0f2d1b046e43';
const UNKNOWN = '01a212eb-576b-7488-9815-774ebe963cf0';

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

function upgradedCopy(): Store {
  const path = `${tempDir()}/old.db`;
  copyFileSync(FIXTURE, path);
  // The fixture's clock: a minute after it was written, when its retries were an hour away.
  return openStore({ databasePath: path, databaseSync: 'normal' }, { now: () => WRITTEN + 60_000 });
}

describe('a database written by release 0.1.0', () => {
  it('migrates forward and keeps its requests, attempts, drivers and idempotency keys', async () => {
    store = upgradedCopy();
    expect((await store.migrations()).applied).toBe(1);
    const applied = await store.migrate();
    expect(applied.length).toBeGreaterThan(0);
    expect(await store.health()).toEqual({ database: true, migrations: true, writable: true });

    expect(await store.requests.find(ALLOWED)).toMatchObject({
      driverId: 'DRIVER-FIXTURE-0000000001',
      decisionStatus: 'allowed',
      decisionReason: 'granted',
      authorizationReference: null,
      callbackState: 'pending',
      attempts: 1,
    });
    expect(await store.requests.find(BLOCKED)).toMatchObject({
      decisionStatus: 'not_allowed',
      decisionReason: 'blocked',
    });
    expect(await store.requests.find(UNKNOWN)).toMatchObject({
      decisionStatus: 'invalid',
      decisionReason: 'unknown_driver',
    });
    const [attempt] = await store.requests.attempts(ALLOWED);
    expect(attempt).toMatchObject({ attempt: 1, outcome: 'network' });
    expect(await store.drivers.find('DRIVER-FIXTURE-0000000001')).toMatchObject({
      status: 'active',
      allStations: true,
    });
    expect((await store.drivers.find('DRIVER-FIXTURE-0000000002'))?.status).toBe('blocked');
    expect((await store.requests.pendingSummary()).count).toBe(3);
  });

  it('claims its pending callbacks with fencing tokens after the upgrade', async () => {
    store = upgradedCopy();
    await store.migrate();
    // The fixture's retries are an hour out; make them due.
    await store.requests.requeue(ALLOWED);
    const claimed = await store.queue.claimDue({
      owner: 'upgrade-test',
      limit: 10,
      leaseMs: 60_000,
      decideByAcl: true,
    });
    expect(claimed.map(({ claim }) => claim.id)).toEqual([ALLOWED]);
    expect(claimed[0]?.claim.token).toBe(1);
    expect(claimed[0]?.decidedNow).toBe(false); // decided by 0.1.0 already: never again
  });
});
