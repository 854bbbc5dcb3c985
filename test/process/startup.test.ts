import { existsSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { validRequest } from '../helpers/app.ts';
import {
  type RunningService,
  startService,
  tempDir,
  threadNiceValues,
} from '../helpers/process.ts';

let running: RunningService | undefined;
afterEach(async () => {
  await running?.kill9();
  running = undefined;
});

describe('npm start', () => {
  it('creates the database folder, migrates, and serves the API, the document and the docs', async () => {
    const path = `${tempDir()}/nested/folder/chargegate.db`;
    running = await startService({ DATABASE_PATH: path });
    expect(existsSync(path)).toBe(true);
    const created = await fetch(`${running.url}/api/charging-session-requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(validRequest()),
    });
    expect(created.status).toBe(200);
    expect((await fetch(`${running.url}/openapi.json`)).status).toBe(200);
    expect((await fetch(`${running.url}/docs/`)).status).toBe(200);
    const migrations = new BetterSqlite3(path, { readonly: true })
      .prepare('select count(*) from __drizzle_migrations')
      .pluck()
      .get();
    expect(migrations).toBeGreaterThanOrEqual(1);
  });

  it.runIf(process.platform === 'linux')(
    "runs the callback worker's thread, and only it, at the lowest CPU priority",
    async () => {
      running = await startService({ DATABASE_PATH: `${tempDir()}/cg.db` });
      const pid = Number(/"pid":(\d+)/.exec(running.output())?.[1]);
      const nice = threadNiceValues(pid);
      expect(nice.filter((value) => value === 19)).toHaveLength(1);
      expect(nice.filter((value) => value !== 19 && value !== nice[0])).toEqual([]);
    },
  );

  it('stops with one line naming a bad variable', async () => {
    running = await startService(
      { DATABASE_PATH: `${tempDir()}/cg.db`, PORT: 'eighty' },
      { ready: false },
    );
    expect(await running.exited).toBe(78);
    const lines = running.output().trim().split('\n');
    expect(lines).toContain(
      'chargegate: invalid configuration: PORT must be a whole number from 0 to 65535 (got "eighty")',
    );
  });

  it('refuses a short ADMIN_TOKEN with one line that does not repeat it', async () => {
    running = await startService(
      { DATABASE_PATH: `${tempDir()}/cg.db`, ADMIN_TOKEN: 'guessable-pw' },
      { ready: false },
    );
    expect(await running.exited).toBe(78);
    expect(running.output().trim().split('\n')).toEqual([
      'chargegate: invalid configuration: ADMIN_TOKEN must be at least 16 characters long',
    ]);
    expect(running.output()).not.toContain('guessable-pw');
  });

  it('names HOST and PORT when it cannot listen', async () => {
    running = await startService(
      { DATABASE_PATH: `${tempDir()}/cg.db`, HOST: 'no-such-host.invalid' },
      { ready: false },
    );
    expect(await running.exited).toBe(1);
    expect(running.output()).toContain(
      'chargegate: cannot listen on HOST=no-such-host.invalid PORT=0:',
    );
  });

  it('stops with a clear message when a migration fails', async () => {
    const path = `${tempDir()}/cg.db`;
    const db = new BetterSqlite3(path);
    db.exec('create table drivers (something_else text)');
    db.close();
    running = await startService({ DATABASE_PATH: path }, { ready: false });
    expect(await running.exited).toBe(1);
    expect(running.output()).toMatch(
      /chargegate: database migration failed: .*table `?drivers`? already exists/,
    );
    expect(running.output()).not.toContain('Server listening');
  });
});
