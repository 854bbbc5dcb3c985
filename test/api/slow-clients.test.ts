import { afterEach, describe, expect, it } from 'vitest';
import { buildService, type TestService, validRequest } from '../helpers/app.ts';
import { openConnection, type RawConnection, within } from '../helpers/raw-http.ts';
import { waitFor } from '../helpers/wait.ts';

/**
 * Slow and greedy clients against a real listening server: raw sockets that stall mid-request,
 * stay idle, or open more connections than MAX_CONNECTIONS allows.
 */

let service: TestService | undefined;
let connections: RawConnection[] = [];
afterEach(async () => {
  for (const connection of connections) connection.socket.destroy();
  connections = [];
  await service?.close();
  service = undefined;
});

async function listening(env: Record<string, string>): Promise<number> {
  service = await buildService({ env });
  const address = await service.app.listen({ port: 0, host: '127.0.0.1' });
  return Number(new URL(address).port);
}

async function open(port: number): Promise<RawConnection> {
  const connection = await openConnection(port);
  connections.push(connection);
  return connection;
}

const CREATE_HEAD = 'POST /api/charging-session-requests HTTP/1.1\r\nHost: x\r\n';
const BODY = JSON.stringify(validRequest());

/** Long enough to tell REQUEST_TIMEOUT_MS=500 from the 10 s default (or from never). */
const BOUND_MS = 5_000;

describe('REQUEST_TIMEOUT_MS', () => {
  it('answers 408 in the error shape and closes a connection whose body stops arriving', async () => {
    const port = await listening({ REQUEST_TIMEOUT_MS: '500' });
    const client = await open(port);
    client.socket.write(
      `${CREATE_HEAD}Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n${BODY.slice(0, 40)}`,
    );
    const response = await within(BOUND_MS, 'a 408', client.response());
    expect(response.status).toBe(408);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers.connection).toBe('close');
    expect(JSON.parse(response.body)).toEqual({
      code: 'TIMEOUT',
      message: 'the request took too long to arrive',
    });
    await within(BOUND_MS, 'the close', client.closed);
  });

  it('answers 408 and closes a connection whose headers never complete', async () => {
    const port = await listening({ REQUEST_TIMEOUT_MS: '500' });
    const client = await open(port);
    client.socket.write(`${CREATE_HEAD}Content-Type: appl`);
    const response = await within(BOUND_MS, 'a 408', client.response());
    expect(response.status).toBe(408);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'TIMEOUT' });
    await within(BOUND_MS, 'the close', client.closed);
  });

  it('closes a connection that never sends anything', async () => {
    const port = await listening({ REQUEST_TIMEOUT_MS: '500' });
    const client = await open(port);
    await within(BOUND_MS, 'the close', client.closed);
  });

  it('serves a request whose parts arrive slowly but within the limit', async () => {
    const port = await listening({ REQUEST_TIMEOUT_MS: '2000' });
    const client = await open(port);
    client.socket.write(
      `${CREATE_HEAD}Content-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY.slice(0, 20)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    client.socket.write(BODY.slice(20));
    const response = await within(BOUND_MS, 'the answer', client.response());
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ status: 'acknowledged' });
  });

  it('closes an idle keep-alive connection after its request', async () => {
    const port = await listening({ REQUEST_TIMEOUT_MS: '500' });
    const client = await open(port);
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    const response = await within(BOUND_MS, 'the answer', client.response());
    expect(response.status).toBe(200);
    expect(response.headers.connection).toBe('keep-alive');
    await within(BOUND_MS, 'the close of the idle connection', client.closed);
  });
});

describe('MAX_CONNECTIONS', () => {
  it('refuses connections past the limit, and accepts again once one closes', async () => {
    const port = await listening({ MAX_CONNECTIONS: '3' });
    const server = service?.app.server;
    const held: RawConnection[] = [];
    for (let i = 0; i < 3; i++) {
      const client = await open(port);
      client.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      expect((await within(BOUND_MS, 'an answer', client.response())).status).toBe(200);
      held.push(client);
    }

    const refused = await open(port);
    refused.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await within(BOUND_MS, 'the refusal', refused.closed);
    expect(refused.received()).toBe('');
    for (const client of held) expect(client.socket.destroyed).toBe(false);

    held[0]?.socket.destroy();
    await waitFor(
      () =>
        new Promise<boolean>((resolve) =>
          server?.getConnections((_error, count) => resolve(count < 3)),
        ),
      { what: 'the server to count the closed connection' },
    );
    const accepted = await open(port);
    accepted.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await within(BOUND_MS, 'an answer', accepted.response())).status).toBe(200);
  });
});
