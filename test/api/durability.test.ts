import { describe, expect, it } from 'vitest';
import { buildService, postCreate, validRequest } from '../helpers/app.ts';
import { addFailingTrigger, testDatabase } from '../helpers/database.ts';

const post = postCreate;

describe('durability', () => {
  it('finds a request again after the app restarts on the same file', async () => {
    const database = await testDatabase();
    const first = await buildService({ database });
    const { requestId } = (await post(first, validRequest())).json();
    await first.close();

    const second = await buildService({ database });
    const response = await second.app.inject({
      method: 'GET',
      url: `/api/charging-session-requests/${requestId}`,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      requestId,
      ...validRequest(),
      callback: { state: 'pending' },
    });
    await second.close();
    await database.drop();
  });

  it('acknowledges exactly the requests it stored when one insert of a batch fails', async () => {
    const service = await buildService();
    await addFailingTrigger(service.database, {
      name: 'poison',
      table: 'charging_session_requests',
      event: 'INSERT',
      when: "NEW.driver_id = 'POISON-0000000000000001'",
      message: 'poisoned',
    });
    const bodies = Array.from({ length: 30 }, (_, i) =>
      validRequest(
        i === 15
          ? { driverId: 'POISON-0000000000000001' }
          : { driverId: `DRIVER-${String(i).padStart(14, '0')}` },
      ),
    );
    const responses = await Promise.all(bodies.map((body) => post(service, body)));
    const acknowledged = responses
      .filter((r) => r.statusCode === 200)
      .map((r) => r.json().requestId as string);
    const stored = (
      await service.sql.rows<{ id: string }>('select id from charging_session_requests')
    ).map((row) => row.id);
    expect(responses[15]?.statusCode).toBe(500);
    expect(responses.every((r) => r.statusCode === 200 || r.statusCode === 500)).toBe(true);
    expect([...stored].sort()).toEqual([...acknowledged].sort());
    // Only the poisoned insert is refused: the requests that shared its commit are kept.
    expect(acknowledged).toHaveLength(29);
    await service.close();
  });
});

describe('readiness', () => {
  it('answers 503 until the worker runs, then 200; /healthz answers 200 throughout', async () => {
    const service = await buildService();
    expect((await service.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const before = await service.app.inject({ method: 'GET', url: '/readyz' });
    expect(before.statusCode).toBe(503);
    expect(before.json()).toEqual({ code: 'SERVICE_UNAVAILABLE', message: 'not ready: worker' });
    service.worker.start();
    const after = await service.app.inject({ method: 'GET', url: '/readyz' });
    expect(after.statusCode).toBe(200);
    expect(after.json()).toEqual({
      status: 'ready',
      checks: { database: true, migrations: true, writable: true, worker: true },
    });
    await service.worker.stop(100);
    expect((await service.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    await service.close();
  });

  it('answers 503 once the database is closed', async () => {
    const service = await buildService();
    service.worker.start();
    await service.worker.stop(100);
    service.worker.start(); // a stopped worker does not start again
    await service.store.close();
    const response = await service.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json().message).toBe('not ready: database, migrations, writable, worker');
    await service.app.close();
  });

  it('answers 503 when the database lacks a migration this version ships', async () => {
    const service = await buildService();
    service.worker.start();
    expect((await service.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    await service.sql.exec(
      service.database.kind === 'sqlite'
        ? 'delete from __drizzle_migrations'
        : 'delete from drizzle.__drizzle_migrations',
    );
    const response = await service.app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'not ready: migrations',
    });
    await service.close();
  });
});
