import { afterEach, describe, expect, it } from 'vitest';
import { type ConnectionDrain, trackConnections } from '../src/connection-drain.ts';
import { buildService, type TestService } from './helpers/app.ts';
import { openConnection, type RawConnection, within } from './helpers/raw-http.ts';

/** Shutdown of a real listening server with idle, stalled and busy clients. */

let service: TestService | undefined;
let connections: RawConnection[] = [];
afterEach(async () => {
  for (const connection of connections) connection.socket.destroy();
  connections = [];
  await service?.close();
  service = undefined;
});

/** A server whose `GET /slow` answers after `slowMs`, with the 10 s default request timeout. */
async function listening(
  slowMs: number,
): Promise<{ port: number; drain: ConnectionDrain; app: TestService['app'] }> {
  service = await buildService();
  service.app.get('/slow', async () => {
    await new Promise((resolve) => setTimeout(resolve, slowMs));
    return { finished: true };
  });
  const drain = trackConnections(service.app.server);
  const address = await service.app.listen({ port: 0, host: '127.0.0.1' });
  return { port: Number(new URL(address).port), drain, app: service.app };
}

async function open(port: number, request: string): Promise<RawConnection> {
  const connection = await openConnection(port);
  connections.push(connection);
  connection.socket.write(request);
  return connection;
}

const STALLED_BODY =
  'POST /api/charging-session-requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"stationId":';
const STALLED_HEADERS = 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ';
const KEEP_ALIVE = 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n';

describe('closing the server with clients connected', () => {
  it('closes idle and stalled connections at once and lets an arrived request finish', async () => {
    const { port, drain, app } = await listening(400);
    const idle = await open(port, KEEP_ALIVE);
    expect((await idle.response()).status).toBe(200);
    const stalledBody = await open(port, STALLED_BODY);
    const stalledHeaders = await open(port, STALLED_HEADERS);
    const busy = await open(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));

    // A 20 s grace and a 10 s request timeout: only the drain itself can end this in time.
    const closing = drain.close(app, 20_000);
    await within(
      2_000,
      'idle and stalled connections to close',
      (async () => {
        await idle.closed;
        await stalledBody.closed;
        await stalledHeaders.closed;
      })(),
    );
    const answer = await busy.response();
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ finished: true });
    expect(await within(2_000, 'the drain', closing)).toEqual({ idle: 2, arriving: 1 });
    await within(2_000, 'the answered connection to close', busy.closed);
    expect(stalledBody.received()).toBe('');
  });

  it('closes a request still running when the grace period ends', async () => {
    const { port, drain, app } = await listening(30_000);
    const busy = await open(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = drain.close(app, 200);
    await within(3_000, 'the drain', closing);
    await within(1_000, 'the connection to close', busy.closed);
    expect(busy.received()).toBe('');
  });

  it('answers 503 in the error shape to a request sent on a busy connection during the drain', async () => {
    const { port, drain, app } = await listening(400);
    const busy = await open(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = drain.close(app, 20_000);
    busy.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await busy.response()).status).toBe(200);
    await within(2_000, 'the drain', closing);
    const second = busy.received().split(/(?=HTTP\/1\.1 )/)[1] ?? '';
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4))).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'the server is shutting down; retry the request',
    });
  });

  it('refuses a connection made once the drain has begun', async () => {
    const { port, drain, app } = await listening(600);
    const busy = await open(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = drain.close(app, 20_000);
    const late = await openConnection(port).catch(() => undefined);
    if (late) {
      connections.push(late);
      late.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await within(2_000, 'the late connection to close', late.closed);
      expect(late.received()).not.toMatch(/^HTTP\/1\.1 200/);
    }
    expect((await busy.response()).status).toBe(200);
    await within(3_000, 'the drain', closing);
  });
});
