import { afterEach, describe, expect, it } from 'vitest';
import {
  buildService,
  capturingLogger,
  postCreate,
  type TestService,
  validRequest,
} from '../helpers/app.ts';
import { type Receiver, startReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';

let service: TestService;
let receivers: Receiver[] = [];
afterEach(async () => {
  await service?.close();
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

async function receiverOn(host: string) {
  const receiver = await startReceiver(undefined, 0, host);
  receivers.push(receiver);
  return receiver;
}

async function settle(callbackUrl: string) {
  const response = await postCreate(service, validRequest({ callbackUrl }));
  const { requestId } = response.json();
  return waitFor(async () => {
    const view = (
      await service.app.inject({
        method: 'GET',
        url: `/api/charging-session-requests/${requestId}`,
      })
    ).json();
    return view.callback.state !== 'pending' || view.callback.attempts > 0 ? view : undefined;
  });
}

describe('without CALLBACK_ALLOWED_CIDRS', () => {
  const strictEnv = { CALLBACK_ALLOWED_CIDRS: '', CALLBACK_TIMEOUT_MS: '500' };

  it.each([
    ['127.0.0.1', '127.0.0.1', 'loopback'],
    ['localhost', '127.0.0.1', 'loopback'],
    ['[::1]', '::1', 'loopback'],
  ])(
    'refuses a callback to %s at once, with no retry and a warning',
    async (host, listenOn, kind) => {
      const receiver = await receiverOn(listenOn);
      const { log, lines } = capturingLogger('warn');
      service = await buildService({ env: strictEnv, log });
      service.worker.start();
      const view = await settle(`http://${host}:${receiver.port}/callbacks`);
      expect(view.callback).toMatchObject({
        state: 'failed',
        attempts: 1,
        lastResponseStatus: null,
      });
      expect(view.callback.lastError).toContain(kind);
      expect(view.callback.lastError).toContain('CALLBACK_ALLOWED_CIDRS');
      expect(receiver.received).toHaveLength(0);
      expect(lines.filter((line) => String(line.msg).startsWith('callback refused'))).toHaveLength(
        1,
      );
    },
  );

  it.each([
    ['169.254.169.254', 'cloud metadata'],
    ['10.0.0.1', 'private'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['0.0.0.0', 'unspecified'],
  ])('refuses %s (%s) without trying to connect', async (host, kind) => {
    service = await buildService({ env: strictEnv });
    service.worker.start();
    const view = await settle(`http://${host}/callbacks`);
    expect(view.callback).toMatchObject({ state: 'failed', attempts: 1 });
    expect(view.callback.lastError).toContain(kind);
    const [attempt] = await service.services.requests.attempts(view.requestId);
    expect(attempt?.outcome).toBe('refused');
  });
});

describe('with CALLBACK_ALLOWED_CIDRS', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['localhost', '127.0.0.1'],
    ['[::1]', '::1'],
  ])('delivers to %s', async (host, listenOn) => {
    const receiver = await receiverOn(listenOn);
    service = await buildService({ env: { CALLBACK_ALLOWED_CIDRS: '127.0.0.0/8,::1/128' } });
    service.worker.start();
    const view = await settle(`http://${host}:${receiver.port}/callbacks`);
    expect(view.callback.state).toBe('delivered');
    expect(receiver.received).toHaveLength(1);
  });

  it.each([
    ['10.255.255.1', '10.0.0.0/8'],
    ['169.254.169.254', '169.254.169.254/32'],
  ])(
    'lets %s through the guard (it then fails for want of a host, not a refusal)',
    async (host, cidr) => {
      service = await buildService({
        env: {
          CALLBACK_ALLOWED_CIDRS: cidr,
          CALLBACK_TIMEOUT_MS: '300',
          CALLBACK_RETRY_SCHEDULE: 'none',
        },
      });
      service.worker.start();
      const view = await settle(`http://${host}:9/callbacks`);
      const [attempt] = await service.services.requests.attempts(view.requestId);
      expect(attempt?.outcome).not.toBe('refused');
      expect(view.callback.lastError).not.toContain('CALLBACK_ALLOWED_CIDRS');
    },
  );
});
