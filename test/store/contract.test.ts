import { afterEach, describe, expect, it } from 'vitest';
import type { NextStep } from '../../src/domain/attempt.ts';
import type { AttemptRecord, Claim } from '../../src/domain/request-record.ts';
import type { Store } from '../../src/store/store.ts';
import { validRequest } from '../helpers/app.ts';
import { type TestDatabase, testDatabase } from '../helpers/database.ts';

/**
 * The store port's contract, the same cases on whichever adapter the project runs (SQLite or
 * PostgreSQL). Two stores on one database stand for two instances. Time is a controlled clock.
 */

let database: TestDatabase | undefined;
let stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
  stores = [];
  await database?.drop();
  database = undefined;
});

const T0 = Date.parse('2026-06-01T00:00:00Z');

async function twoInstances() {
  database = await testDatabase();
  const clock = { now: T0 };
  const open = () => {
    const store = (database as TestDatabase).openStore({ now: () => clock.now });
    stores.push(store);
    return store;
  };
  return { a: open(), b: open(), clock };
}

const claimOptions = (owner: string, limit = 10, leaseMs = 1_000) => ({
  owner,
  limit,
  leaseMs,
  decideByAcl: true,
});

const attempt = (claim: Claim, startedAt: number): AttemptRecord => ({
  requestId: claim.id,
  attempt: claim.attempts + 1,
  startedAt,
  durationMs: 5,
  outcome: 'delivered',
  responseStatus: 204,
  error: null,
  responseBody: '',
});

const delivered = (at: number): NextStep => ({ state: 'delivered', completedAt: at, error: null });

async function createOne(store: Store): Promise<string> {
  const outcome = await store.requests.create(validRequest());
  expect(outcome.created).toBe(true);
  return outcome.requestId;
}

describe('the store contract', () => {
  it('claims are exclusive: two instances claiming at once never get the same request', async () => {
    const { a, b } = await twoInstances();
    const ids = await Promise.all(Array.from({ length: 40 }, () => createOne(a)));
    const [fromA, fromB] = await Promise.all([
      a.queue.claimDue(claimOptions('instance-a', 25)),
      b.queue.claimDue(claimOptions('instance-b', 25)),
    ]);
    const claimedA = fromA.map((r) => r.claim.id);
    const claimedB = fromB.map((r) => r.claim.id);
    expect(claimedA.filter((id) => claimedB.includes(id))).toEqual([]);
    expect(new Set([...claimedA, ...claimedB])).toEqual(new Set(ids));
    // Nothing is due while the leases hold.
    expect(await a.queue.claimDue(claimOptions('instance-c'))).toEqual([]);
  });

  it('decides with the built-in ACL while claiming, once, and stores the reason', async () => {
    const { a } = await twoInstances();
    await a.drivers.upsert(validRequest().driverId, { status: 'active', allStations: true });
    const id = await createOne(a);
    const [first] = await a.queue.claimDue(claimOptions('instance-a'));
    expect(first?.decidedNow).toBe(true);
    expect(first?.claim).toMatchObject({
      id,
      decisionStatus: 'allowed',
      decisionReason: 'granted',
      decidedAt: T0,
    });
    expect(await a.requests.find(id)).toMatchObject({ decisionStatus: 'allowed' });
    await a.queue.release(first?.claim as Claim);
    const [again] = await a.queue.claimDue(claimOptions('instance-a'));
    expect(again?.decidedNow).toBe(false);
  });

  it('fences a late completion: after its lease expired and another instance claimed the request, it is refused', async () => {
    const { a, b, clock } = await twoInstances();
    const id = await createOne(a);
    const [stale] = await a.queue.claimDue(claimOptions('instance-a', 10, 1_000));
    clock.now = T0 + 1_001; // the lease is over; instance A is still busy with its attempt
    const [current] = await b.queue.claimDue(claimOptions('instance-b', 10, 60_000));
    expect(current?.claim.id).toBe(id);
    expect(current?.claim.token).toBeGreaterThan(stale?.claim.token as number);

    const late = await a.queue.finishAttempt(
      stale?.claim as Claim,
      attempt(stale?.claim as Claim, T0),
      delivered(clock.now),
    );
    expect(late).toBe(false);
    expect(await a.requests.find(id)).toMatchObject({ callbackState: 'pending', attempts: 0 });
    // The late attempt is still in the delivery log.
    expect(await a.requests.attempts(id)).toHaveLength(1);

    const kept = await b.queue.finishAttempt(
      current?.claim as Claim,
      attempt(current?.claim as Claim, clock.now),
      delivered(clock.now + 5),
    );
    expect(kept).toBe(true);
    expect(await b.requests.find(id)).toMatchObject({ callbackState: 'delivered', attempts: 1 });
  });

  it('fences a claim taken again by the same owner after its lease expired', async () => {
    const { a, clock } = await twoInstances();
    await createOne(a);
    const [first] = await a.queue.claimDue(claimOptions('instance-a', 10, 1_000));
    clock.now = T0 + 2_000;
    const [second] = await a.queue.claimDue(claimOptions('instance-a', 10, 1_000));
    expect(second?.claim.id).toBe(first?.claim.id);
    const decision = {
      status: 'allowed' as const,
      source: 'authorizer' as const,
      reason: 'authorizer' as const,
    };
    expect(await a.queue.saveDecision(first?.claim as Claim, decision, clock.now, 1_000)).toBe(
      false,
    );
    expect(await a.queue.saveDecision(second?.claim as Claim, decision, clock.now, 1_000)).toBe(
      true,
    );
  });

  it('gives claims back: release makes one due at once, releaseAll every claim of an owner', async () => {
    const { a, b } = await twoInstances();
    await Promise.all([createOne(a), createOne(a), createOne(a)]);
    const claimed = await a.queue.claimDue(claimOptions('instance-a'));
    expect(claimed).toHaveLength(3);
    expect(await a.queue.claimOwners()).toEqual(['instance-a']);
    await a.queue.release(claimed[0]?.claim as Claim);
    expect((await b.queue.claimDue(claimOptions('instance-b'))).map((r) => r.claim.id)).toEqual([
      claimed[0]?.claim.id,
    ]);
    expect(await a.queue.releaseAll('instance-a')).toBe(2);
    expect(await b.queue.claimDue(claimOptions('instance-b'))).toHaveLength(2);
  });

  it('passes over excluded origins, oldest due first among the rest, and leaves their rows as they were', async () => {
    const { a, clock } = await twoInstances();
    const held = 'https://held.example';
    const toHeld = async () =>
      (await a.requests.create(validRequest({ callbackUrl: `${held}/cb` }))).requestId;
    const toOther = async () =>
      (await a.requests.create(validRequest({ callbackUrl: 'https://OTHER.example:443/cb' })))
        .requestId;
    const heldIds = [await toHeld(), await toHeld()];
    clock.now += 1;
    const otherIds = [await toOther(), await toOther()];

    const claimed = await a.queue.claimDue({
      ...claimOptions('instance-a', 3),
      excludeOrigins: [held],
    });
    expect(claimed.map((r) => r.claim.id).sort()).toEqual([...otherIds].sort());
    for (const id of heldIds) {
      expect(await a.requests.find(id)).toMatchObject({
        attempts: 0,
        nextAttemptAt: T0,
        lastError: null,
      });
    }
    // `https://OTHER.example:443` is the origin https://other.example: excluded by that name.
    await a.queue.releaseAll('instance-a');
    expect(
      await a.queue.claimDue({
        ...claimOptions('instance-a', 10),
        excludeOrigins: [held, 'https://other.example'],
      }),
    ).toEqual([]);
  });

  it("takes no more callbacks of an origin than its room, each origin's oldest first", async () => {
    const { a, clock } = await twoInstances();
    const create = async (callbackUrl: string) => {
      clock.now += 1;
      return (await a.requests.create(validRequest({ callbackUrl }))).requestId;
    };
    const ids = { a: [] as string[], b: [] as string[], c: [] as string[] };
    for (let i = 0; i < 4; i++) {
      ids.a.push(await create('https://a.example/cb'));
      ids.b.push(await create('https://b.example/cb'));
      ids.c.push(await create('https://c.example/cb'));
    }
    const claimed = await a.queue.claimDue({
      ...claimOptions('instance-a', 10),
      roomPerOrigin: { default: 2, byOrigin: { 'https://a.example': 1 } },
    });
    expect(claimed.map((r) => r.claim.id).sort()).toEqual(
      [ids.a[0], ids.b[0], ids.b[1], ids.c[0], ids.c[1]].sort(),
    );
  });

  it('claims a row stored without its origin whatever is excluded, and stores the origin with the claim', async () => {
    const { a } = await twoInstances();
    const held = 'http://held.example:8080';
    const id = (await a.requests.create(validRequest({ callbackUrl: `${held}/cb` }))).requestId;
    // As a row written before the column existed.
    await (database as TestDatabase).sql.rows(
      'update charging_session_requests set callback_origin = null where id = ?',
      [id],
    );
    const options = { ...claimOptions('instance-a'), excludeOrigins: [held] };
    const claimed = await a.queue.claimDue(options);
    expect(claimed.map((r) => r.claim.id)).toEqual([id]);
    await a.queue.release(claimed[0]?.claim as Claim);
    expect(await a.queue.claimDue(options)).toEqual([]);
    expect(
      await (database as TestDatabase).sql.value(
        'select callback_origin from charging_session_requests where id = ?',
        [id],
      ),
    ).toBe(held);
  });

  it('one idempotency key used on two instances at once creates one request', async () => {
    const { a, b } = await twoInstances();
    for (let round = 0; round < 5; round++) {
      const key = { key: `key-${round}`, fingerprint: 'same-body' };
      const outcomes = await Promise.all([
        a.requests.create(validRequest(), key),
        b.requests.create(validRequest(), key),
        a.requests.create(validRequest(), key),
      ]);
      expect(new Set(outcomes.map((o) => o.requestId)).size).toBe(1);
      expect(outcomes.filter((o) => o.created)).toHaveLength(1);
      for (const outcome of outcomes.filter((o) => !o.created)) {
        expect(outcome).toMatchObject({ fingerprint: 'same-body' });
      }
    }
    expect(await database?.sql.count('charging_session_requests')).toBe(5);
  });

  it('an expired key creates a new request', async () => {
    const { a, clock } = await twoInstances();
    const key = { key: 'reused-key', fingerprint: 'f' };
    const first = await a.requests.create(validRequest(), key);
    clock.now = T0 + 24 * 60 * 60 * 1000 + 1;
    const second = await a.requests.create(validRequest(), key);
    expect(second.created).toBe(true);
    expect(second.requestId).not.toBe(first.requestId);
  });

  it('shares one generated webhook secret between instances', async () => {
    const { a, b } = await twoInstances();
    const [fromA, fromB] = await Promise.all([a.webhookSecret(), b.webhookSecret()]);
    expect(fromA).toMatch(/^whsec_/);
    expect(fromB).toBe(fromA);
  });

  it('knows when the next callback is due, and what is pending', async () => {
    const { a, clock } = await twoInstances();
    const id = await createOne(a);
    const [claimed] = await a.queue.claimDue(claimOptions('instance-a'));
    await a.queue.finishAttempt(claimed?.claim as Claim, attempt(claimed?.claim as Claim, T0), {
      state: 'pending',
      nextAttemptAt: T0 + 5_000,
      error: 'receiver answered 503',
    });
    expect(await a.queue.nextDueAfter(clock.now)).toBe(T0 + 5_000);
    expect(await a.requests.pendingSummary()).toEqual({ count: 1, oldestCreatedAt: T0 });
    expect(await a.queue.claimDue(claimOptions('instance-a'))).toEqual([]);
    clock.now = T0 + 5_000;
    expect((await a.queue.claimDue(claimOptions('instance-a')))[0]?.claim).toMatchObject({
      id,
      attempts: 1,
      cycleAttempts: 1,
    });
    expect(await a.requests.find(id)).toMatchObject({ lastError: 'receiver answered 503' });
  });

  it('keeps drivers and their grants, and exports them in driver id order', async () => {
    const { a } = await twoInstances();
    const station = '3F0E9A52-8A8C-4D8E-9F3A-7B1C2D3E4F50';
    await a.drivers.upsert('driver-b-0000000000001', { status: 'active' });
    await a.drivers.upsert('Driver-A-0000000000001', { status: 'blocked', expiresAt: T0 });
    expect(await a.drivers.grant('driver-b-0000000000001', station)).toMatchObject({
      stations: [station.toLowerCase()],
    });
    expect(await a.drivers.grant('nobody-000000000000001', station)).toBeUndefined();
    // An omitted field keeps its value.
    expect(await a.drivers.upsert('Driver-A-0000000000001', { status: 'active' })).toMatchObject({
      status: 'active',
      expiresAt: T0,
    });
    const exported = [];
    for await (const driver of a.drivers.exportAll()) exported.push(driver.driverId);
    expect(exported).toEqual(['Driver-A-0000000000001', 'driver-b-0000000000001']);
    expect(await a.drivers.revoke('driver-b-0000000000001', station)).toMatchObject({
      stations: [],
    });
    expect(await a.drivers.remove('driver-b-0000000000001')).toBe(true);
    expect(await a.drivers.remove('driver-b-0000000000001')).toBe(false);
  });

  it('reports its health and the migrations it has', async () => {
    const { a } = await twoInstances();
    expect(await a.health()).toEqual({ database: true, migrations: true, writable: true });
    const { applied, shipped } = await a.migrations();
    expect(applied).toBe(shipped.length);
    expect(await a.migrate()).toEqual([]);
  });
});
