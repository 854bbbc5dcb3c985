import type { LookupAddress } from 'node:dns';
import { afterEach, describe, expect, it } from 'vitest';
import { createAddressPolicy, parseCidrList } from '../../src/domain/address-policy.ts';
import { deliver } from '../../src/worker/deliver.ts';
import { createGuardedDispatcher } from '../../src/worker/guarded-dispatcher.ts';
import { answer, type Receiver, startReceiver } from '../helpers/receiver.ts';

/** A resolver that answers from a table, as a DNS server under someone else's control might. */
function fakeLookup(table: Record<string, string[]>) {
  return ((
    hostname: string,
    _options: unknown,
    callback: (e: Error | null, a: LookupAddress[]) => void,
  ) => {
    const addresses = table[hostname];
    if (!addresses)
      return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  }) as never;
}

let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

function dispatcherFor(table: Record<string, string[]>, allowed = '') {
  const refused: string[] = [];
  const dispatcher = createGuardedDispatcher({
    policy: createAddressPolicy(parseCidrList(allowed)),
    connectTimeoutMs: 1_000,
    lookup: fakeLookup(table),
    onRefused: (error) => refused.push(error.message),
  });
  return { dispatcher, refused };
}

const send = (dispatcher: ReturnType<typeof createGuardedDispatcher>, url: string) =>
  deliver(dispatcher, {
    url,
    body: '{}',
    headers: { 'content-type': 'application/json' },
    timeoutMs: 1_000,
    now: Date.now(),
  });

describe('the guarded dispatcher', () => {
  it('checks the address a host name resolves to, not the name', async () => {
    receiver = await startReceiver(answer(204));
    const { dispatcher, refused } = dispatcherFor({ 'hooks.example.test': ['127.0.0.1'] });
    const outcome = await send(dispatcher, `http://hooks.example.test:${receiver.port}/cb`);
    expect(outcome).toEqual({
      kind: 'refused',
      error:
        'callback host hooks.example.test resolves to 127.0.0.1, which is in the loopback range 127.0.0.0/8; callbacks only reach public addresses unless the range is listed in CALLBACK_ALLOWED_CIDRS',
    });
    expect(refused).toHaveLength(1);
    expect(receiver.received).toHaveLength(0);
    await dispatcher.close();
  });

  it('connects only to the allowed addresses of a name that resolves to several', async () => {
    receiver = await startReceiver(answer(204));
    const { dispatcher } = dispatcherFor(
      { 'mixed.example.test': ['10.0.0.7', '127.0.0.1'] },
      '127.0.0.0/8',
    );
    const outcome = await send(dispatcher, `http://mixed.example.test:${receiver.port}/cb`);
    expect(outcome).toMatchObject({ kind: 'delivered', status: 204 });
    expect(receiver.received[0]?.headers.host).toBe(`mixed.example.test:${receiver.port}`);
    await dispatcher.close();
  });

  it('refuses a name whose every address is internal, naming the first', async () => {
    const { dispatcher } = dispatcherFor({ 'internal.example.test': ['10.0.0.7', 'fd00::1'] });
    const outcome = await send(dispatcher, 'http://internal.example.test/cb');
    expect(outcome).toMatchObject({ kind: 'refused' });
    expect((outcome as { error: string }).error).toContain(
      'resolves to 10.0.0.7, which is in the private range 10.0.0.0/8',
    );
    await dispatcher.close();
  });

  it('reports a name that does not resolve as a network failure, to be retried', async () => {
    const { dispatcher } = dispatcherFor({});
    const outcome = await send(dispatcher, 'http://nowhere.example.test/cb');
    expect(outcome).toMatchObject({ kind: 'network' });
    expect((outcome as { error: string }).error).toContain('ENOTFOUND');
    await dispatcher.close();
  });
});
