import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportFormat } from '../../src/cli/drivers-export.ts';
import type { DriverRecord } from '../../src/domain/driver.ts';
import { openStore } from '../../src/store/open-store.ts';
import { testDatabase } from '../helpers/database.ts';
import { tempDir } from '../helpers/process.ts';
import { csvText, generatedRows, runBinary, runInProcess, writeText } from './cli.ts';

const EXAMPLES = new URL('../../examples/', import.meta.url).pathname;

async function allDrivers(path: string): Promise<DriverRecord[]> {
  const store = openStore({ databasePath: path, databaseSync: 'normal' });
  try {
    const drivers: DriverRecord[] = [];
    for await (const driver of store.drivers.exportAll()) drivers.push(driver);
    return drivers;
  } finally {
    await store.close();
  }
}

/** A database holding the example drivers and 3,000 generated ones. */
async function filledDatabase() {
  const dir = tempDir('chargegate-cli-export-');
  const env = { DATABASE_PATH: join(dir, 'source.db'), DATABASE_SYNC: 'normal' };
  const generated = writeText(join(dir, 'generated.csv'), csvText(generatedRows(3_000)));
  for (const file of [`${EXAMPLES}drivers.csv`, generated]) {
    const result = await runInProcess(['drivers', 'import', file], env);
    expect(result.code, result.stderr).toBe(0);
  }
  return { dir, env, drivers: await allDrivers(env.DATABASE_PATH) };
}

describe('drivers export', () => {
  it.each([
    ['csv', ['--format', 'csv'], 'drivers.csv'],
    ['jsonl', ['--format', 'jsonl'], 'drivers.jsonl'],
    ['jsonl (from the output name)', [], 'drivers.ndjson'],
  ])('writes %s that imports back to the same drivers', async (_name, formatArgs, name) => {
    const { dir, env, drivers } = await filledDatabase();
    expect(drivers).toHaveLength(3_006);
    const file = join(dir, name);

    const exported = await runInProcess(
      ['drivers', 'export', ...formatArgs, '--output', file],
      env,
    );
    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe('');
    expect(exported.stderr).toMatch(/^exported 3006 drivers as (csv|jsonl) to /);

    const copy = { DATABASE_PATH: join(dir, 'copy.db'), DATABASE_SYNC: 'normal' };
    const imported = await runInProcess(['drivers', 'import', file], copy);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^imported 3006 rows, skipped 0/);
    expect(await allDrivers(copy.DATABASE_PATH)).toEqual(drivers);

    const again = join(dir, `again-${name}`);
    await runInProcess(['drivers', 'export', ...formatArgs, '--output', again], copy);
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(file, 'utf8'));
  });

  it('writes CSV to stdout by default, through the binary', async () => {
    const dir = tempDir('chargegate-cli-export-');
    const env = { DATABASE_PATH: join(dir, 'cg.db') };
    expect((await runInProcess(['drivers', 'import', `${EXAMPLES}drivers.jsonl`], env)).code).toBe(
      0,
    );

    const result = await runBinary(['drivers', 'export'], env);

    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('driverId,status,expiresAt,allStations,stations');
    expect(lines).toHaveLength(7);
    expect(lines).toContain(
      'guest_2026-06_conference_badge_42,active,2026-06-14T16:00:00.000Z,false,3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50;c7e4a1b9-2d3f-4a5b-9c8d-7e6f5a4b3c21',
    );
    expect(lines).toContain(
      'DRV-0099-suspended~account,blocked,,false,3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50',
    );
    expect(lines).toContain('fleet-berlin-van-000018,active,,true,');
    expect(result.stderr).toBe('exported 6 drivers as csv\n');
  });

  it('exports an empty ACL as a header alone, or nothing for JSON lines', async () => {
    const { env } = await testDatabase();
    expect((await runInProcess(['drivers', 'export'], env)).stdout).toBe(
      'driverId,status,expiresAt,allStations,stations\n',
    );
    expect((await runInProcess(['drivers', 'export', '--format', 'jsonl'], env)).stdout).toBe('');
  });

  it('fails without leaving a partial file when the output cannot be written', async () => {
    const { dir, env } = await filledDatabase();
    const output = join(dir, 'no-such-folder', 'drivers.csv');
    const result = await runInProcess(['drivers', 'export', '--output', output], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^chargegate: cannot write .*no-such-folder\/drivers\.csv: ENOENT/m,
    );
    expect(existsSync(output)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it.each([
    [undefined, undefined, 'csv'],
    [undefined, 'out.jsonl', 'jsonl'],
    [undefined, 'out.txt', 'csv'],
    ['jsonl', undefined, 'jsonl'],
    ['csv', 'out.jsonl', 'csv'],
  ] as const)('--format %s --output %s writes %s', (format, output, expected) => {
    expect(exportFormat(format, output)).toBe(expected);
  });
});
