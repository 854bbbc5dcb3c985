import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seedRequest, testDatabase } from '../helpers/database.ts';
import { type Spawned, spawnCollecting, tempDir } from '../helpers/process.ts';
import { answer, type Receiver, startReceiver } from '../helpers/receiver.ts';
import { waitFor } from '../helpers/wait.ts';
import { BIN } from './cli.ts';

/** `chargegate serve` and `chargegate worker` as processes, stopped with SIGTERM. */

let children: ChildProcess[] = [];
let receiver: Receiver | undefined;
afterEach(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children = [];
  await receiver?.close();
  receiver = undefined;
});

function start(args: string[], env: Record<string, string>): Spawned {
  const started = spawnCollecting(process.execPath, [BIN, ...args], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: '0',
    LOG_LEVEL: 'info',
    ...env,
  });
  children.push(started.child);
  return started;
}

/** The "chargegate ready" log line, parsed. */
async function ready(started: Spawned): Promise<Record<string, unknown>> {
  const line = await waitFor(
    () =>
      started
        .output()
        .split('\n')
        .find((text) => text.includes('"chargegate ready"')),
    { timeoutMs: 30_000, what: 'chargegate ready' },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${started.output()}`);
  });
  return JSON.parse(line) as Record<string, unknown>;
}

describe('serve and worker', () => {
  it('serve runs HTTP and the worker; SIGTERM stops it with exit code 0', async () => {
    const started = start(['serve'], { DATABASE_PATH: join(tempDir(), 'cg.db') });
    expect(await ready(started)).toMatchObject({ http: 'on', worker: 'on' });
    const url = /Server listening at (http:\/\/[\d.]+:\d+)/.exec(started.output())?.[1];
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });

  it('serve --no-worker serves HTTP without the worker', async () => {
    const started = start(['serve', '--no-worker'], { DATABASE_PATH: join(tempDir(), 'cg.db') });
    expect(await ready(started)).toMatchObject({ http: 'on', worker: 'off' });
    const url = /Server listening at (http:\/\/[\d.]+:\d+)/.exec(started.output())?.[1];
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
  });

  it('worker delivers stored callbacks without listening for HTTP', async () => {
    receiver = await startReceiver(answer(204));
    const database = await testDatabase();
    const requestId = randomUUID();
    await seedRequest(database.sql, {
      id: requestId,
      callbackUrl: receiver.url,
      createdAt: Date.now(),
    });

    const started = start(['worker'], {
      ...database.env,
      CALLBACK_ALLOWED_CIDRS: '127.0.0.0/8',
      WORKER_POLL_INTERVAL_MS: '50',
    });
    expect(await ready(started)).toMatchObject({ http: 'off', worker: 'on' });
    expect(started.output()).not.toContain('Server listening');

    await waitFor(() => receiver?.received.length === 1, { what: 'the callback' });
    expect(JSON.parse(receiver.received[0]?.body ?? '{}')).toMatchObject({
      requestId,
      status: 'invalid',
    });
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    await database.drop();
  });
});
