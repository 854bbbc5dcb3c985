import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountCallbacks } from './lib/callbacks.ts';
import { chargegateAdmin, type Drain } from './lib/chargegate-admin.ts';
import { measureEndToEnd } from './lib/e2e.ts';
import type { IdList } from './lib/id-list.ts';
import { machineInfo } from './lib/machine.ts';
import { type BenchOptions, OptionsError, parseOptions, USAGE } from './lib/options.ts';
import { DRIVER_ID, requestBodies } from './lib/payload.ts';
import { dropBenchDatabase, freshBenchDatabase } from './lib/postgres.ts';
import { preflight } from './lib/preflight.ts';
import { cpuMeter, readCommandLine, readMemory, sampleRss } from './lib/proc.ts';
import { type Receiver, startReceiver } from './lib/receiver.ts';
import { e2eP99Met, evaluate, PEER_LABEL, renderReport, SQLITE_LABEL } from './lib/report.ts';
import type { BackendRecord, BenchResult, Round, RunRecord } from './lib/results.ts';
import { scanLog } from './lib/server-log.ts';
import {
  killNow,
  lastBytes,
  ROOT,
  type ServerProcess,
  spawnServer,
  tail,
} from './lib/spawn-server.ts';
import { maxOf } from './lib/stats.ts';
import { type SustainedRecord, sustained } from './lib/sustained.ts';
import { hammer, TARGETS, type Target, type TargetName } from './lib/throughput.ts';

/**
 * `npm run bench`: chargegate's two doors against a bare-Fastify baseline in interleaved rounds,
 * then open-loop end-to-end latency, then a count of every acknowledged request's callback.
 * Exits 0 whatever the figures are (the table says PASS or FAIL); non-zero only when the harness
 * could not measure (bad options, a server that would not start or died under it).
 */

const RESULTS_DIR = join(ROOT, 'bench/results');
const CREATE_PATH = '/api/charging-session-requests';
const note = (message: string) => process.stderr.write(`[bench] ${message}\n`);

type Children = {
  chargegate?: ServerProcess;
  baseline?: ServerProcess;
  receiver?: Receiver;
  /** The peer and the PostgreSQL instances, each running for its own phase only. */
  extra: ServerProcess[];
};

/** Stops the run as soon as a process it measures is gone: its figures would be meaningless. */
function ensureRunning(children: Children, phase: string): void {
  const { chargegate, baseline, receiver } = children;
  if (![chargegate, baseline, receiver].every((child) => child?.running)) {
    throw new Error(`a process the bench measures exited during ${phase}`);
  }
}

/** The arguments `npm start` gives node, so the bench runs exactly what users run. */
function startScriptArgs(): string[] {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } };
  // Expand ${NAME:-default} the way the shell running the script would.
  const expanded = pkg.scripts.start.replace(
    /\$\{(\w+):-([^}]*)\}/g,
    (_match, name: string, fallback: string) => process.env[name] || fallback,
  );
  const [command, ...args] = expanded.split(/\s+/);
  if (command !== 'node')
    throw new Error(`npm start runs "${command}", not node: update the bench`);
  return args;
}

type ChargegateOptions = {
  dir: string;
  secret: string;
  adminToken: string;
  /** Names its log file; `chargegate` for the main instance. */
  name?: string;
  /** e.g. DATABASE_URL for PostgreSQL; else a fresh SQLite file in `dir`. */
  env?: Record<string, string>;
};

function startChargegate({ dir, secret, adminToken, name = 'chargegate', env }: ChargegateOptions) {
  return spawnServer({
    name,
    args: startScriptArgs(),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      DATABASE_PATH: join(dir, `${name}.db`),
      DATABASE_SYNC: 'full',
      LOG_LEVEL: 'info',
      WEBHOOK_SECRET: secret,
      CALLBACK_ALLOWED_CIDRS: '127.0.0.0/8',
      ADMIN_TOKEN: adminToken,
      ...env,
    },
    logPath: join(dir, `${name}.log`),
    readyPath: '/readyz',
  });
}

/** The bare-Fastify baseline; with a secret, the fire-and-forget peer that also calls back. */
function startBaseline(dir: string, peerSecret?: string) {
  const name = peerSecret ? 'peer' : 'baseline';
  return spawnServer({
    name,
    args: ['--import', 'tsx', 'bench/baseline-server.ts'],
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      ...(peerSecret ? { WEBHOOK_SECRET: peerSecret } : {}),
    },
    logPath: join(dir, `${name}.log`),
  });
}

async function bench(o: BenchOptions, dir: string, children: Children): Promise<BenchResult> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const machine = machineInfo(dir);
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const adminToken = randomBytes(24).toString('hex');

  const receiver = await startReceiver({ secret, verifyEvery: o.verifyEvery });
  children.receiver = receiver;
  const baseline = await startBaseline(dir);
  children.baseline = baseline;
  const chargegate = await startChargegate({ dir, secret, adminToken });
  children.chargegate = chargegate;
  note(`chargegate ${chargegate.url} (pid ${chargegate.pid}), baseline ${baseline.url}`);

  const rss = sampleRss(chargegate.pid, 1000);
  const admin = chargegateAdmin(chargegate.url, adminToken);
  await admin.allowDriver(DRIVER_ID);

  const targets: Record<TargetName, Target> = {
    baseline: { name: 'baseline', label: 'baseline', origin: baseline.url, path: CREATE_PATH },
    rest: { name: 'rest', label: 'chargegate REST', origin: chargegate.url, path: CREATE_PATH },
    trpc: {
      name: 'trpc',
      label: 'chargegate tRPC',
      origin: chargegate.url,
      path: '/trpc/chargingSessionRequests.create',
    },
  };
  const pids = {
    chargegate: chargegate.pid,
    baseline: baseline.pid,
    loadgen: process.pid,
    receiver: receiver.pid,
  };
  const drainTimeoutMs = o.drainTimeoutS * 1000;
  const bodies = requestBodies(receiver.url);

  receiver.verifyAll(true);
  const acknowledged = await preflight(Object.values(targets), bodies[0] as string, receiver);
  receiver.verifyAll(false);

  const measure = async (name: TargetName, durationS: number): Promise<RunRecord> => {
    const callbacksBefore = (await receiver.summary()).callbacks;
    const meter = cpuMeter(pids);
    const { ackIds, ...run } = await hammer(targets[name], {
      bodies,
      connections: o.connections,
      durationS,
    });
    const cpu = meter.stop();
    ensureRunning(children, `the ${targets[name].label} run`);
    const callbacksDuringRun = (await receiver.summary()).callbacks - callbacksBefore;
    const measured = { ...run, cpu, callbacksDuringRun };
    if (name === 'baseline') return { ...measured, drain: null };
    acknowledged.append(ackIds);
    // The next run starts without a backlog, so chargegate's worker still delivering this run's
    // callbacks takes no CPU from it (the baseline above all).
    return { ...measured, drain: await admin.waitForDrain(drainTimeoutMs) };
  };

  const warmup: RunRecord[] = [];
  if (o.warmupS > 0) {
    note(`warm-up: ${o.warmupS} s per target, not recorded`);
    for (const name of TARGETS) warmup.push(await measure(name, o.warmupS));
  }
  const rounds: Round[] = [];
  for (let index = 1; index <= o.rounds; index++) {
    const runs = {} as Round['runs'];
    for (const name of TARGETS) runs[name] = await measure(name, o.durationS);
    rounds.push({ index, runs });
    note(
      `round ${index}/${o.rounds}: baseline ${Math.round(runs.baseline.reqPerSec)}, ` +
        `REST ${Math.round(runs.rest.reqPerSec)}, tRPC ${Math.round(runs.trpc.reqPerSec)} req/s`,
    );
  }

  const e2eAt = async (rate: number) => {
    note(`e2e: ${rate} req/s for ${o.e2eDurationS} s`);
    const measured = await measureEndToEnd({
      origin: chargegate.url,
      path: CREATE_PATH,
      rate,
      durationS: o.e2eDurationS,
      graceS: o.graceS,
      drainTimeoutMs,
      bodies,
      receiver,
      admin,
      meter: () => cpuMeter(pids),
    });
    ensureRunning(children, `the e2e phase at ${rate} req/s`);
    acknowledged.append(measured.acknowledged);
    return measured.record;
  };
  // The latency target's phase runs before the sustained ones, as the README orders them: what
  // PostgreSQL does after its phases (checkpoints, dropped databases) shares the disk that every
  // SQLite commit fsyncs.
  const e2e = await e2eAt(o.e2eRate);

  // Sustained end to end, and the backends: each target takes saturating load, then drains.
  // Callbacks of the peer and of the PostgreSQL instances are told apart from the main
  // instance's by counting what the receiver got during their phases.
  const backends: BackendRecord[] = [];
  let otherCallbacks = 0;
  const phase = async (
    label: string,
    origins: string[],
    waitForDrain: (() => Promise<Drain>) | undefined,
    servers: ServerProcess[],
  ): Promise<{ record: SustainedRecord; ackIds: IdList }> => {
    note(`sustained: ${label}, ${o.sustainedS} s of saturating load, then its drain`);
    const measured = await sustained({
      label,
      origins,
      path: CREATE_PATH,
      bodies,
      connections: o.connections,
      durationS: o.sustainedS,
      receiver,
      waitForDrain,
      graceS: o.graceS,
    });
    ensureRunning(children, `the sustained ${label} run`);
    for (const server of servers) {
      if (!server.running)
        throw new Error(`${server.name} exited during the sustained ${label} run`);
    }
    const peakRssMb = maxOf(servers.map((server) => readMemory(server.pid).peakRssMb));
    backends.push({ ...measured.record, peakRssMb });
    return measured;
  };
  const others = async (run: () => Promise<void>) => {
    const before = (await receiver.summary()).distinct;
    await run();
    otherCallbacks += (await receiver.summary()).distinct - before;
  };

  await others(async () => {
    const peer = await startBaseline(dir, secret);
    children.extra.push(peer);
    try {
      await phase(PEER_LABEL, [peer.url], undefined, [peer]);
    } finally {
      await peer.stop(10_000);
    }
  });
  const sqlite = await phase(
    SQLITE_LABEL,
    [chargegate.url],
    () => admin.waitForDrain(drainTimeoutMs),
    [chargegate],
  );
  acknowledged.append(sqlite.ackIds);

  const postgres: { skipped: string | null } = { skipped: null };
  if (o.postgresUrl === null) postgres.skipped = 'BENCH_POSTGRES_URL=off';
  for (const instances of o.postgresUrl === null ? [] : [1, 2]) {
    const database = await freshBenchDatabase(o.postgresUrl as string).catch((error: Error) => {
      postgres.skipped = `PostgreSQL unreachable at ${o.postgresUrl}: ${error.message}`;
      return null;
    });
    if (database === null) break;
    await others(async () => {
      const servers: ServerProcess[] = [];
      try {
        // Started one after the other: the second finds the schema migrated by the first.
        for (let n = 1; n <= instances; n++) {
          const server = await startChargegate({
            dir,
            secret,
            adminToken,
            name: `postgres-${instances}x-${n}`,
            env: { DATABASE_URL: database.url },
          });
          servers.push(server);
          children.extra.push(server);
        }
        const pgAdmin = chargegateAdmin((servers[0] as ServerProcess).url, adminToken);
        await pgAdmin.allowDriver(DRIVER_ID);
        await phase(
          `chargegate PostgreSQL ×${instances}`,
          servers.map((server) => server.url),
          () => pgAdmin.waitForDrain(drainTimeoutMs),
          servers,
        );
      } finally {
        const stops = await Promise.all(servers.map((server) => server.stop(60_000)));
        const record = backends.find((b) => b.label === `chargegate PostgreSQL ×${instances}`);
        if (record)
          record.shutdownCodes = stops.map((stop) => (stop.forced ? -1 : (stop.code ?? -1)));
        await dropBenchDatabase(o.postgresUrl as string, database.name);
      }
    });
  }

  const e2eHigh = await e2eAt(o.e2eHighRate);

  note('waiting for the worker to deliver every callback');
  const callbacks = await accountCallbacks({
    acknowledged,
    admin,
    receiver,
    drainTimeoutMs,
    otherCallbacks,
  });

  // VmHWM last, just before the stop: it covers the whole run.
  const memoryNow = readMemory(chargegate.pid);
  const samples = rss.stop();
  const baselineMemory = readMemory(baseline.pid);
  const processes = {
    chargegate: { pid: chargegate.pid, command: readCommandLine(chargegate.pid) },
    baseline: { pid: baseline.pid, command: readCommandLine(baseline.pid) },
    receiver: { pid: receiver.pid, command: readCommandLine(receiver.pid) },
  };
  note('stopping chargegate (SIGTERM)');
  const shutdown = {
    chargegate: await chargegate.stop(60_000),
    baseline: await baseline.stop(10_000),
  };
  await receiver.stop();

  const measured = {
    startedAt,
    options: o,
    machine,
    processes,
    warmup,
    rounds,
    e2e,
    e2eHigh,
    backends,
    postgresSkipped: postgres.skipped,
    callbacks,
    memory: {
      peakRssMb: memoryNow.peakRssMb,
      maxSampledRssMb: maxOf(samples.map((sample) => sample.rssMb)),
      finalRssMb: memoryNow.rssMb,
      samples,
      baselinePeakRssMb: baselineMemory.peakRssMb,
    },
    shutdown,
    serverLog: await scanLog(chargegate.logPath),
  };
  return {
    ...measured,
    verdicts: evaluate(measured),
    wallS: (performance.now() - started) / 1000,
    tempDir: null,
  };
}

function writeResults(result: BenchResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  writeFileSync(join(RESULTS_DIR, 'latest.json'), json);
  // A dated copy too, to compare runs as the server changes.
  writeFileSync(join(RESULTS_DIR, `${result.startedAt.replace(/[:.]/g, '-')}.json`), json);
}

/**
 * Why the run broke, if a server is behind it. The bench signals its servers only after measuring,
 * so a "shutting down" line before then means another process on the machine signalled one; the
 * line can precede the exit by seconds, so it is looked for whether or not the server has exited.
 */
function explainFailure(children: Children): string[] {
  const reasons: string[] = [];
  for (const server of [children.chargegate, children.baseline]) {
    if (!server) continue;
    const asked = [
      ...lastBytes(server.logPath).matchAll(/"signal":"(SIG\w+)","msg":"shutting down"/g),
    ].at(-1)?.[1];
    if (asked) {
      reasons.push(
        `${server.name} (pid ${server.pid}) received a ${asked} the bench did not send: another ` +
          'process on this machine signalled it (e.g. pkill -f src/main.ts)',
      );
    }
    if (!server.running) {
      reasons.push(
        `${server.name} (pid ${server.pid}) has exited; its output ends with:\n${tail(server.logPath, 5)}`,
      );
    }
  }
  if (children.receiver && !children.receiver.running) reasons.push('the callback receiver exited');
  return reasons;
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `\ncaused by: ${describeError(error.cause)}` : '';
  return `${error.stack ?? error.message}${cause}`;
}

async function main(): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    console.error(`bench: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }

  const dir = mkdtempSync(join(options.tmpDir ?? tmpdir(), 'chargegate-bench-'));
  const children: Children = { extra: [] };
  process.on('exit', () => {
    killNow(children.chargegate);
    killNow(children.baseline);
    for (const server of children.extra) killNow(server);
  });
  // Exiting runs the 'exit' hook above, so no server outlives an interrupted bench.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      note(`${signal}: stopping the servers`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }

  let keep = options.keep;
  try {
    const result = await bench(options, dir, children);
    // The database and the server log are the evidence for a correctness failure, and for the
    // e2e p99 target missed (its slowest requests' ids are in the results): keep them.
    keep ||=
      result.verdicts.some((v) => !v.pass && v.kind === 'correctness') || !e2eP99Met(result.e2e);
    result.tempDir = keep ? dir : null;
    writeResults(result);
    process.stdout.write(`${renderReport(result)}\n`);
    note('results written to bench/results/latest.json');
    return 0;
  } catch (error) {
    keep = true;
    console.error(`bench: the harness could not finish: ${describeError(error)}`);
    for (const reason of explainFailure(children)) console.error(`bench: ${reason}`);
    console.error(`bench: logs and database kept in ${dir}`);
    return 1;
  } finally {
    await Promise.allSettled([
      children.chargegate?.stop(60_000),
      children.baseline?.stop(10_000),
      children.receiver?.stop(),
      ...children.extra.map((server) => server.stop(10_000)),
    ]);
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
