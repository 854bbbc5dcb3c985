import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN } from './config.ts';
import { waitFor } from './wait.ts';

/** The real service, started as a user starts it: `npm start`, in its own process group. */

const ROOT = new URL('../..', import.meta.url).pathname;

export type RunningService = {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** SIGKILL to the whole process group: npm, the shell and node. */
  kill9(): Promise<number | string>;
  signal(name: NodeJS.Signals): void;
};

/** The nice value of each thread of a process (Linux), in no particular order. */
export function threadNiceValues(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((id) => {
    const stat = readFileSync(`/proc/${pid}/task/${id}/stat`, 'utf8');
    // Field 19 of the line; the fields after the command's closing parenthesis start at 3.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

export function tempDir(prefix = 'chargegate-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export type Spawned = {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
};

/** Starts a command from the repository root, collecting its output. */
export function spawnCollecting(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  { detached = false } = {},
): Spawned {
  const child = spawn(command, args, {
    cwd: ROOT,
    detached,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  return { child, output: () => output, exited };
}

export async function startService(
  env: Record<string, string>,
  { ready = true, args }: { ready?: boolean; args?: string[] } = {},
): Promise<RunningService> {
  // `npm start`, or the chargegate command with `args` (e.g. serve --no-worker).
  const { child, output, exited } = spawnCollecting(
    args ? 'node' : 'npm',
    args ? ['bin/chargegate.js', ...args] : ['start', '--silent'],
    {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: '0',
      LOG_LEVEL: 'info',
      ADMIN_TOKEN,
      CALLBACK_ALLOWED_CIDRS: '127.0.0.0/8',
      DATABASE_SYNC: 'full',
      ...env,
    },
    { detached: true },
  );
  const running: RunningService = {
    url: '',
    child,
    output,
    exited,
    async kill9() {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {}
      return exited;
    },
    signal(name) {
      // Signal node itself, as a process manager would (npm would forward it too).
      const node = /"pid":(\d+)/.exec(output())?.[1];
      process.kill(node ? Number(node) : (child.pid as number), name);
    },
  };
  if (!ready) return running;
  let exitCode: number | string | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const url = await waitFor(
    () => {
      if (exitCode !== undefined) throw new Error(`the service exited (${exitCode})`);
      return /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output())?.[1];
    },
    { timeoutMs: 30_000, what: 'the service to listen' },
  ).catch(async (error) => {
    await running.kill9();
    throw new Error(`${(error as Error).message}\n${output()}`);
  });
  running.url = url;
  await waitFor(async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === 200, {
    timeoutMs: 10_000,
    what: 'readyz',
  });
  return running;
}
