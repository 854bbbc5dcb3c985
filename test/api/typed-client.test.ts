import { createTRPCClient, httpBatchLink, httpLink, TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../../src/api/routers/app-router.ts';
import { buildService, type TestService, validRequest } from '../helpers/app.ts';
import { ADMIN_TOKEN } from '../helpers/config.ts';

let service: TestService;
let url: string;
beforeAll(async () => {
  service = await buildService();
  const address = await service.app.listen({ port: 0, host: '127.0.0.1' });
  url = `${address}/trpc`;
});
afterAll(async () => {
  await service.close();
});

describe('createTRPCClient<AppRouter> over a real socket', () => {
  it('creates and reads a request with full types', async () => {
    const client = createTRPCClient<AppRouter>({ links: [httpLink({ url })] });
    const ack = await client.chargingSessionRequests.create.mutate(validRequest());
    expect(ack.status).toBe('acknowledged');
    const view = await client.chargingSessionRequests.get.query({ requestId: ack.requestId });
    expect(view.requestId).toBe(ack.requestId);
    expect(view.callback.state).toBe('pending');
  });

  it('sends an Idempotency-Key per operation, from the call context', async () => {
    const client = createTRPCClient<AppRouter>({
      links: [
        httpLink({
          url,
          headers: ({ op }) =>
            typeof op.context.idempotencyKey === 'string'
              ? { 'idempotency-key': op.context.idempotencyKey }
              : {},
        }),
      ],
    });
    const keyed = { context: { idempotencyKey: 'typed-client-key' } };
    const first = await client.chargingSessionRequests.create.mutate(validRequest(), keyed);
    const again = await client.chargingSessionRequests.create.mutate(validRequest(), keyed);
    const unkeyed = await client.chargingSessionRequests.create.mutate(validRequest());
    expect(again.requestId).toBe(first.requestId);
    expect(unkeyed.requestId).not.toBe(first.requestId);
    await expect(
      client.chargingSessionRequests.create.mutate(
        validRequest({ driverId: 'OTHER-DRIVER-0000000001' }),
        keyed,
      ),
    ).rejects.toMatchObject({ data: { code: 'UNPROCESSABLE_CONTENT', httpStatus: 422 } });
  });

  it('batches calls and reports validation errors with their issues', async () => {
    const client = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })],
    });
    const [driver, missing] = await Promise.allSettled([
      client.drivers.upsert.mutate({ driverId: 'DRV-0001-ab.cd_ef~0123', status: 'active' }),
      client.chargingSessionRequests.get.query({ requestId: 'nope' }),
    ]);
    expect(driver).toMatchObject({
      status: 'fulfilled',
      value: { driverId: 'DRV-0001-ab.cd_ef~0123' },
    });
    expect(missing.status).toBe('rejected');
    const error = (missing as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(TRPCClientError);
    expect(error.data).toMatchObject({
      code: 'BAD_REQUEST',
      issues: [
        {
          path: ['requestId'],
          message: 'requestId must be a UUID in the 8-4-4-4-12 hexadecimal form',
        },
      ],
    });
  });
});
