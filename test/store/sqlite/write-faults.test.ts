import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildService,
  capturingLogger,
  postCreate,
  type TestService,
  validRequest,
} from '../../helpers/app.ts';
import { sqliteTestDatabase } from '../../helpers/database.ts';
import { tempDir } from '../../helpers/process.ts';

/**
 * SQLite faults under a running service: a full disk, a read-only file system, the database file
 * deleted or replaced. Creates must answer 503 with Retry-After (never 200, never 500) and
 * /readyz must name the failing check until the fault is gone.
 */

let service: TestService | undefined;
let mounted: string | undefined;
afterEach(async () => {
  await service?.close();
  await service?.database.drop();
  service = undefined;
  if (mounted) execFileSync('umount', ['-l', mounted]);
  mounted = undefined;
});

/** A tmpfs of `size` at a new mount point, or undefined where mounting is not allowed. */
function smallFileSystem(size: string): string | undefined {
  const dir = tempDir('chargegate-smallfs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}

const canMount = (() => {
  const dir = smallFileSystem('64k');
  if (dir) execFileSync('umount', [dir]);
  return dir !== undefined;
})();

async function serviceOn(path: string, log = capturingLogger().log) {
  const database = sqliteTestDatabase(path);
  const store = database.openStore();
  await store.migrate();
  await store.close();
  service = await buildService({ database, log });
  service.worker.start();
  return service;
}

const ready = async (target: TestService) => {
  const response = await target.app.inject({ method: 'GET', url: '/readyz' });
  return { status: response.statusCode, body: response.json() };
};

/** Creates until one is refused (or `max` were tried); answers every response. */
async function createUntilRefused(target: TestService, max: number) {
  const responses = [];
  for (let i = 0; i < max; i++) {
    const response = await postCreate(
      target,
      validRequest({ driverId: `DRIVER-FAULT-${String(i).padStart(10, '0')}` }),
    );
    responses.push(response);
    if (response.statusCode !== 200) break;
  }
  return responses;
}

// A read-only file system cannot be had here under a running service: remounting read-only fails
// (EBUSY) while the database is open for writing, and root ignores file modes. SQLITE_READONLY
// takes the same path as SQLITE_FULL (a transient fault: 503, then the write probe).
describe.runIf(canMount)('on a file system that fills up', () => {
  it('a full disk: 503 with Retry-After and /readyz failing writable, then recovery once space is freed', async () => {
    mounted = smallFileSystem('2m');
    const dir = mounted as string;
    const target = await serviceOn(`${dir}/cg.db`);
    expect((await ready(target)).status).toBe(200);
    // Take every free byte.
    try {
      writeFileSync(`${dir}/filler`, Buffer.alloc(4 * 1024 * 1024));
    } catch {}
    const responses = await createUntilRefused(target, 500);
    const refused = responses.at(-1);
    expect(refused?.statusCode).toBe(503);
    expect(refused?.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused?.json()).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: 'the database is unavailable; try again shortly',
    });
    expect(responses.every((r) => r.statusCode === 200 || r.statusCode === 503)).toBe(true);
    const notReady = await ready(target);
    expect(notReady.status).toBe(503);
    expect(notReady.body.message).toContain('writable');

    rmSync(`${dir}/filler`);
    expect((await ready(target)).status).toBe(200);
    const after = await postCreate(target, validRequest());
    expect(after.statusCode).toBe(200);
    // Every acknowledged request is stored.
    for (const response of [...responses, after].filter((r) => r.statusCode === 200)) {
      const { requestId } = response.json();
      expect(await target.store.requests.find(requestId)).toBeDefined();
    }
  });
});

describe('the database file deleted or replaced while running', () => {
  it('deleted: creates answer 503, /readyz fails the database check, and the fault is logged once', async () => {
    const dir = tempDir();
    const { log, lines } = capturingLogger();
    const target = await serviceOn(`${dir}/cg.db`, log);
    expect((await postCreate(target, validRequest())).statusCode).toBe(200);
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${dir}/cg.db${suffix}`, { force: true });

    for (let i = 0; i < 3; i++) {
      const refused = await postCreate(target, validRequest());
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    }
    const notReady = await ready(target);
    expect(notReady.status).toBe(503);
    expect(notReady.body.message).toContain('database');
    const logged = lines.filter((line) => String(line.msg).includes('was deleted'));
    expect(logged).toHaveLength(1);
    expect(logged[0]?.level).toBe(50);
  });

  it('replaced by another file: creates answer 503 instead of writing to the old one', async () => {
    const dir = tempDir();
    const target = await serviceOn(`${dir}/cg.db`);
    expect((await postCreate(target, validRequest())).statusCode).toBe(200);
    mkdirSync(`${dir}/other`);
    const other = sqliteTestDatabase(`${dir}/other/cg.db`);
    const otherStore = other.openStore();
    await otherStore.migrate();
    await otherStore.close();
    await other.drop();
    unlinkSync(`${dir}/cg.db`);
    copyFileSync(`${dir}/other/cg.db`, `${dir}/cg.db`);

    expect((await postCreate(target, validRequest())).statusCode).toBe(503);
    expect((await ready(target)).status).toBe(503);
  });
});
