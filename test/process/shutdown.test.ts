import { afterEach, describe, expect, it } from 'vitest';
import { databasesDroppedAfterEach } from '../helpers/database.ts';
import { type RunningService, startService } from '../helpers/process.ts';
import { openConnection, type RawConnection, within } from '../helpers/raw-http.ts';

const database = databasesDroppedAfterEach();
let running: RunningService | undefined;
let connections: RawConnection[] = [];
afterEach(async () => {
  for (const connection of connections) connection.socket.destroy();
  connections = [];
  await running?.kill9();
  running = undefined;
});

describe('SIGTERM with clients connected', () => {
  it('exits 0 within SHUTDOWN_TIMEOUT_MS plus a little, with a stalled and an idle client', async () => {
    const shutdownTimeoutMs = 2_000;
    // The default 10 s request timeout: only the shutdown itself can end the stalled request in time.
    running = await startService({
      ...(await database()),
      SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    });
    const port = Number(new URL(running.url).port);
    const stalled = await openConnection(port);
    const idle = await openConnection(port);
    connections.push(stalled, idle);
    stalled.socket.write(
      'POST /api/charging-session-requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"stationId":',
    );
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    expect((await idle.response()).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));

    running.signal('SIGTERM');
    const code = await within(
      shutdownTimeoutMs + 2_500,
      'the process to exit',
      running.exited,
    ).catch((error: Error) => new Error(`${error.message}\n${running?.output()}`));
    expect(code).toBe(0);
    expect(running.output()).toContain('"msg":"stopped"');
    expect(running.output()).toContain('closed connections without a complete request');
    await stalled.closed;
    expect(stalled.received()).toBe('');
  });
});
