import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { sleep } from './clock.ts';
import { readCommandLine } from './proc.ts';

/**
 * Starts a server as its own node process with stdout and stderr going to a file, and waits for
 * its `Server listening at http://…` line. The file, not a pipe, takes the logs so that reading
 * them costs the bench process nothing while it generates load; it is scanned after the run.
 */

export const ROOT = new URL('../..', import.meta.url).pathname;

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export type StopResult = Exit & { ms: number; forced: boolean };

export type ServerProcess = {
  name: string;
  url: string;
  /** The pid of the node process that listens (memory and CPU are read from it). */
  pid: number;
  logPath: string;
  exited: Promise<Exit>;
  readonly running: boolean;
  /** SIGTERM, then SIGKILL after `timeoutMs`. Idempotent. */
  stop(timeoutMs: number): Promise<StopResult>;
};

export type SpawnServerOptions = {
  name: string;
  /** Arguments after `node`, e.g. `['--import', 'tsx', 'src/main.ts']`. */
  args: string[];
  env: Record<string, string>;
  logPath: string;
  /** A path answering 200 once the server can take load, e.g. `/readyz`. */
  readyPath?: string;
  timeoutMs?: number;
};

const LISTENING = /Server listening at (http:\/\/[^\s"]+)/;
const LOGGED_PID = /"pid":(\d+)/;

export function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

/** The last `bytes` of a file: enough to find how a server stopped without reading all its logs. */
export function lastBytes(path: string, bytes = 256 * 1024): string {
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function watchExit(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

export async function spawnServer({
  name,
  args,
  env,
  logPath,
  readyPath,
  timeoutMs = 30_000,
}: SpawnServerOptions): Promise<ServerProcess> {
  const logFd = openSync(logPath, 'a');
  // `node` itself, not npm or a shell, so the child's pid is the server's pid.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const exited = watchExit(child);
  let exit: Exit | undefined;
  void exited.then((value) => {
    exit = value;
  });

  const fail = async (why: string): Promise<never> => {
    if (!exit) child.kill('SIGKILL');
    await exited;
    throw new Error(`${name} ${why}; its output ends with:\n${tail(logPath)}`);
  };

  const deadline = performance.now() + timeoutMs;
  let url: string | undefined;
  let loggedPid: number | undefined;
  while (url === undefined) {
    if (exit) await fail(`exited (${exit.code ?? exit.signal}) before listening`);
    if (performance.now() > deadline) await fail(`did not listen within ${timeoutMs} ms`);
    await sleep(50);
    const output = readFileSync(logPath, 'utf8');
    const line = output.split('\n').find((text) => LISTENING.test(text));
    if (line) {
      url = LISTENING.exec(line)?.[1];
      const pid = LOGGED_PID.exec(line)?.[1];
      loggedPid = pid === undefined ? undefined : Number(pid);
    }
  }
  const pid = child.pid as number;
  if (loggedPid !== undefined && loggedPid !== pid) {
    await fail(`logged pid ${loggedPid} but was spawned as ${pid} (${readCommandLine(pid)})`);
  }

  if (readyPath) {
    for (;;) {
      const status = await fetch(url + readyPath).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) break;
      if (exit) await fail(`exited (${exit.code ?? exit.signal}) before it was ready`);
      if (performance.now() > deadline) await fail(`was not ready within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  let stopping: Promise<StopResult> | undefined;
  return {
    name,
    url,
    pid,
    logPath,
    exited,
    get running() {
      return exit === undefined;
    },
    stop(stopTimeoutMs) {
      stopping ??= (async () => {
        const started = performance.now();
        if (exit) return { ...exit, ms: 0, forced: false };
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), stopTimeoutMs);
        });
        const first = await Promise.race([exited, timedOut]);
        clearTimeout(timer);
        const forced = first === 'timeout';
        if (forced) child.kill('SIGKILL');
        const result = await exited;
        return { ...result, ms: performance.now() - started, forced };
      })();
      return stopping;
    },
  };
}

/** Kills a child synchronously; for `process.on('exit')`, where nothing can be awaited. */
export function killNow(server: ServerProcess | undefined): void {
  if (!server?.running) return;
  try {
    process.kill(server.pid, 'SIGKILL');
  } catch {}
}
