import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';

/**
 * `npm run bench:import`: generates a driver file and imports it with the real command
 * (`node bin/chargegate.js drivers import`) into a fresh database, once per DATABASE_SYNC mode,
 * and reports elapsed time, rows/s and the importing process's peak RSS.
 *
 *   npm run bench:import                       1,000,000 CSV rows
 *   npm run bench:import -- --rows 200000 --jsonl
 */

const ROOT = new URL('..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/chargegate.js');
const TIME = '/usr/bin/time';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    jsonl: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
if (!Number.isInteger(ROWS) || ROWS < 1) throw new Error('--rows must be a positive whole number');

/** A small deterministic generator, so every run imports the same file. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Row = {
  driverId: string;
  status: 'active' | 'blocked';
  expiresAt: string | null;
  allStations: boolean;
  stations: string[];
};

const STATION_POOL = Array.from({ length: 5_000 }, (_, i) => {
  const hex = i.toString(16).padStart(12, '0');
  return `5a7e0000-0000-4000-8000-${hex}`;
});

function* rows(count: number): Generator<Row> {
  const random = mulberry32(20_260_101);
  for (let i = 0; i < count; i++) {
    const stationCount = Math.floor(random() * 4);
    yield {
      driverId: `bench-driver-${i.toString().padStart(10, '0')}`,
      status: random() < 0.05 ? 'blocked' : 'active',
      expiresAt: random() < 0.2 ? new Date(Date.UTC(2027, 0, 1) + i * 1000).toISOString() : null,
      allStations: random() < 0.02,
      stations: Array.from(
        { length: stationCount },
        () => STATION_POOL[Math.floor(random() * STATION_POOL.length)] as string,
      ),
    };
  }
}

async function writeFile(path: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(path);
  let chunk = '';
  for (const line of lines) {
    chunk += line;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'close');
}

function* csvLines(count: number): Generator<string> {
  yield 'driverId,status,expiresAt,allStations,stations\n';
  for (const row of rows(count)) {
    yield `${row.driverId},${row.status},${row.expiresAt ?? ''},${row.allStations},${row.stations.join(';')}\n`;
  }
}

function* jsonLines(count: number): Generator<string> {
  for (const row of rows(count)) yield `${JSON.stringify(row)}\n`;
}

type Result = { elapsedMs: number; peakRssKb: number | undefined; output: string; code: number };

/** Runs the command; peak RSS from GNU time when installed, else sampled from /proc. */
async function runImport(file: string, env: Record<string, string>): Promise<Result> {
  const useTime = existsSync(TIME);
  const command = useTime ? TIME : process.execPath;
  const commandArgs = useTime
    ? ['-f', 'peak-rss-kb=%M', process.execPath, BIN, 'drivers', 'import', file]
    : [BIN, 'drivers', 'import', file];
  const startedAt = performance.now();
  const child = spawn(command, commandArgs, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  let sampledKb: number | undefined;
  const sampler = useTime
    ? undefined
    : setInterval(() => {
        try {
          const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (match) sampledKb = Number(match[1]);
        } catch {}
      }, 100);
  const [code] = (await once(child, 'exit')) as [number | null];
  const elapsedMs = performance.now() - startedAt;
  if (sampler) clearInterval(sampler);
  const timed = /peak-rss-kb=(\d+)/.exec(output);
  return {
    elapsedMs,
    peakRssKb: timed ? Number(timed[1]) : sampledKb,
    output: output.replace(/peak-rss-kb=\d+\n?/, ''),
    code: code ?? 1,
  };
}

function countRows(path: string): { drivers: number; grants: number } {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return {
      drivers: db.prepare('select count(*) from drivers').pluck().get() as number,
      grants: db.prepare('select count(*) from driver_stations').pluck().get() as number,
    };
  } finally {
    db.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'chargegate-bench-import-'));
const files: Array<{ format: string; path: string }> = [];
try {
  let started = performance.now();
  const csv = join(dir, 'drivers.csv');
  await writeFile(csv, csvLines(ROWS));
  files.push({ format: 'csv', path: csv });
  console.error(
    `generated ${ROWS} CSV rows in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  if (args.jsonl) {
    started = performance.now();
    const jsonl = join(dir, 'drivers.jsonl');
    await writeFile(jsonl, jsonLines(ROWS));
    files.push({ format: 'jsonl', path: jsonl });
    console.error(
      `generated ${ROWS} JSONL rows in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }

  const results: string[] = [];
  for (const { format, path } of files) {
    for (const sync of ['full', 'normal'] as const) {
      const database = join(dir, `${format}-${sync}.db`);
      const result = await runImport(path, {
        DATABASE_PATH: database,
        DATABASE_SYNC: sync,
        LOG_LEVEL: 'warn',
      });
      if (result.code !== 0) {
        throw new Error(
          `import (${format}, ${sync}) exited with ${result.code}:\n${result.output}`,
        );
      }
      const stored = countRows(database);
      if (stored.drivers !== ROWS) {
        throw new Error(`expected ${ROWS} drivers after the import, found ${stored.drivers}`);
      }
      const summary = result.output.trim().split('\n').at(-1) ?? '';
      results.push(
        [
          format.padEnd(6),
          sync.padEnd(7),
          `${(result.elapsedMs / 1000).toFixed(1)} s`.padStart(8),
          `${Math.round(ROWS / (result.elapsedMs / 1000))}`.padStart(9),
          (result.peakRssKb === undefined
            ? 'n/a'
            : `${Math.round(result.peakRssKb / 1024)} MB`
          ).padStart(9),
          `${stored.grants}`.padStart(9),
          `  ${summary}`,
        ].join(' '),
      );
      console.error(`${format}/${sync}: ${summary}`);
      rmSync(database, { force: true });
      rmSync(`${database}-wal`, { force: true });
      rmSync(`${database}-shm`, { force: true });
    }
  }

  process.stdout.write(
    `\ndrivers import of ${ROWS} rows (wall clock of the whole command, process start to exit)\n`,
  );
  process.stdout.write(
    `${['format', 'sync   ', ' elapsed', '   rows/s', ' peak RSS', '   grants', '  command summary'].join(' ')}\n`,
  );
  for (const line of results) process.stdout.write(`${line}\n`);
} finally {
  if (args.keep) console.error(`files kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
