import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/program.ts';

/** Running the command line in this process (fast) or as the real binary (as a user does). */

const ROOT = new URL('../..', import.meta.url).pathname;
export const BIN = `${ROOT}bin/chargegate.js`;

export type CliResult = { code: number; stdout: string; stderr: string };

function collect(isTTY = false) {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

export async function runInProcess(
  args: string[],
  env: Record<string, string>,
): Promise<CliResult> {
  const stdout = collect();
  const stderr = collect();
  const code = await run(args, {
    env: { LOG_LEVEL: 'silent', ...env },
    stdout: stdout.stream,
    stderr: stderr.stream,
    now: Date.now,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

export function runBinary(
  args: string[],
  env: Record<string, string>,
  { timeoutMs = 60_000, cwd = ROOT } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chargegate ${args.join(' ')} ran longer than ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? -1 : 128), stdout, stderr });
    });
  });
}

export const STATIONS = [
  '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50',
  '9B2D6C1E-4F7A-4E0B-8C3D-2A1F5E6B7C80',
  'c7e4a1b9-2d3f-4a5b-9c8d-7e6f5a4b3c21',
] as const;

export type TestRow = {
  driverId: string;
  status: 'active' | 'blocked';
  expiresAt: string | null;
  allStations: boolean;
  stations: string[];
};

/** Row `i` of a generated file: every shape of row occurs, in a pattern the tests can predict. */
export function generatedRow(i: number): TestRow {
  return {
    driverId: `test-driver-${String(i).padStart(10, '0')}`,
    status: i % 10 === 3 ? 'blocked' : 'active',
    expiresAt: i % 5 === 1 ? new Date(Date.UTC(2027, 0, 1) + i * 60_000).toISOString() : null,
    allStations: i % 50 === 7,
    stations: STATIONS.slice(0, i % 4),
  };
}

export function csvText(rows: Iterable<TestRow>): string {
  const lines = ['driverId,status,expiresAt,allStations,stations'];
  for (const row of rows) {
    lines.push(
      [row.driverId, row.status, row.expiresAt ?? '', row.allStations, row.stations.join(';')].join(
        ',',
      ),
    );
  }
  return `${lines.join('\n')}\n`;
}

export function jsonlText(rows: Iterable<TestRow>): string {
  let text = '';
  for (const row of rows) text += `${JSON.stringify(row)}\n`;
  return text;
}

export function* generatedRows(count: number): Generator<TestRow> {
  for (let i = 0; i < count; i++) yield generatedRow(i);
}

export function writeText(path: string, text: string): string {
  writeFileSync(path, text);
  return path;
}
