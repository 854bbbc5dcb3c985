import type { BenchResult, E2eRecord, RunRecord, Verdict } from './results.ts';
import { type Spread, spread } from './stats.ts';
import type { TargetName } from './throughput.ts';

/** Turns a BenchResult into verdicts against the targets and a plain-text table. */

export const TARGET_LIMITS = {
  restRatio: 0.6,
  trpcRatio: 0.45,
  sustainedRatio: 0.7,
  e2eP50Ms: 5,
  e2eP99Ms: 25,
  peakRssMb: 150,
} as const;

/** The latency target of an e2e phase; a run that misses it keeps its log and database. */
export const e2eP99Met = (e2e: Pick<E2eRecord, 'latencyMs'>) =>
  e2e.latencyMs.p99 <= TARGET_LIMITS.e2eP99Ms;

export const PEER_LABEL = 'fire-and-forget peer';
export const SQLITE_LABEL = 'chargegate SQLite ×1';

/** chargegate SQLite's delivered callbacks per second over the peer's, in the sustained phase. */
export function sustainedRatio(result: Pick<BenchResult, 'backends'>): number {
  const peer = result.backends.find((b) => b.label === PEER_LABEL);
  const sqlite = result.backends.find((b) => b.label === SQLITE_LABEL);
  return peer && sqlite ? sqlite.deliveredPerSec / peer.deliveredPerSec : Number.NaN;
}

const LABELS: Record<TargetName, string> = {
  baseline: 'baseline (bare Fastify)',
  rest: 'chargegate REST',
  trpc: 'chargegate tRPC',
};

/** Above this (percent of one core) used by unrelated processes, the run is flagged as noisy. */
const QUIET_OTHER_CPU = 10;

export function otherCpu(result: Pick<BenchResult, 'rounds' | 'e2e'>): Spread {
  return spread([
    ...result.rounds.flatMap((round) => Object.values(round.runs).map((run) => run.cpu.other)),
    result.e2e.cpu.other,
  ]);
}

type Ratios = { ofMedians: number; perRound: Spread };

export function throughputOf(result: Pick<BenchResult, 'rounds'>, target: TargetName): Spread {
  return spread(result.rounds.map((round) => round.runs[target].reqPerSec));
}

export function ratioOf(result: Pick<BenchResult, 'rounds'>, target: TargetName): Ratios {
  const base = throughputOf(result, 'baseline');
  return {
    ofMedians: throughputOf(result, target).median / base.median,
    perRound: spread(
      result.rounds.map((round) => round.runs[target].reqPerSec / round.runs.baseline.reqPerSec),
    ),
  };
}

const chargegateRuns = (result: Pick<BenchResult, 'rounds' | 'warmup'>): RunRecord[] => [
  ...result.warmup.filter((run) => run.target !== 'baseline'),
  ...result.rounds.flatMap((round) => [round.runs.rest, round.runs.trpc]),
];

export function evaluate(result: Omit<BenchResult, 'verdicts' | 'wallS' | 'tempDir'>): Verdict[] {
  const rest = ratioOf(result, 'rest');
  const trpc = ratioOf(result, 'trpc');
  const runs = chargegateRuns(result);
  const chargegateBackends = result.backends.filter((b) => b.label !== PEER_LABEL);
  const non2xx =
    runs.reduce((sum, run) => sum + run.non2xx, 0) +
    result.e2e.non2xx +
    result.e2eHigh.non2xx +
    chargegateBackends.reduce((sum, b) => sum + b.non2xx, 0);
  const errors =
    runs.reduce((sum, run) => sum + run.errors, 0) +
    result.e2e.errors +
    result.e2eHigh.errors +
    chargegateBackends.reduce((sum, b) => sum + b.errors, 0);
  // The PostgreSQL instances' acknowledgements are not in the main instance's accounting.
  const pgBackends = chargegateBackends.filter((b) => b.label !== SQLITE_LABEL);
  const lost = result.callbacks.lost + pgBackends.reduce((sum, b) => sum + b.lost, 0);
  const acked =
    result.callbacks.acknowledged + pgBackends.reduce((sum, b) => sum + b.acknowledged, 0);
  const sustained = sustainedRatio(result);
  const pgStops = pgBackends.flatMap((b) => b.shutdownCodes ?? []);
  const { receiver } = result.callbacks;
  const stop = result.shutdown.chargegate;
  const speed = (figure: string, value: number, shown: string, target: string, pass: boolean) =>
    ({ figure, kind: 'performance', value, shown, range: null, target, pass }) satisfies Verdict;
  const must = (figure: string, value: number, shown: string, pass: boolean) =>
    ({
      figure,
      kind: 'correctness',
      value,
      shown,
      range: null,
      target: '= 0',
      pass,
    }) satisfies Verdict;
  const ratio = (figure: string, { ofMedians, perRound }: Ratios, limit: number): Verdict => ({
    ...speed(figure, ofMedians, fixed(ofMedians, 2), `≥ ${limit}`, ofMedians >= limit),
    range: range(perRound, (x) => fixed(x, 2)),
  });
  return [
    ratio('REST / baseline (ratio of medians)', rest, TARGET_LIMITS.restRatio),
    ratio('tRPC / baseline (ratio of medians)', trpc, TARGET_LIMITS.trpcRatio),
    speed(
      'sustained e2e: SQLite / fire-and-forget peer',
      sustained,
      fixed(sustained, 2),
      `≥ ${TARGET_LIMITS.sustainedRatio}`,
      sustained >= TARGET_LIMITS.sustainedRatio,
    ),
    speed(
      `e2e p50 at ${result.e2e.rate} req/s (ms)`,
      result.e2e.latencyMs.p50,
      ms(result.e2e.latencyMs.p50),
      `≤ ${TARGET_LIMITS.e2eP50Ms}`,
      result.e2e.latencyMs.p50 <= TARGET_LIMITS.e2eP50Ms,
    ),
    speed(
      `e2e p99 at ${result.e2e.rate} req/s (ms)`,
      result.e2e.latencyMs.p99,
      ms(result.e2e.latencyMs.p99),
      `≤ ${TARGET_LIMITS.e2eP99Ms}`,
      e2eP99Met(result.e2e),
    ),
    speed(
      'peak RSS, VmHWM (MB)',
      result.memory.peakRssMb,
      fixed(result.memory.peakRssMb, 1),
      `≤ ${TARGET_LIMITS.peakRssMb}`,
      result.memory.peakRssMb <= TARGET_LIMITS.peakRssMb,
    ),
    must('lost callbacks (whole run)', lost, `${lost} of ${acked}`, lost === 0),
    must('non-2xx answers (chargegate)', non2xx, String(non2xx), non2xx === 0),
    must('request errors + timeouts (chargegate)', errors, String(errors), errors === 0),
    must(
      'callback signature failures',
      receiver.verifyFailures,
      `${receiver.verifyFailures} of ${receiver.verified} checked`,
      receiver.verifyFailures === 0 && receiver.verified > 0,
    ),
    must(
      'SIGTERM → exit 0',
      stop.code ?? -1,
      stop.forced ? 'killed' : String(stop.code ?? stop.signal),
      stop.code === 0 && !stop.forced,
    ),
    must(
      'SIGTERM → exit 0 (PostgreSQL instances)',
      pgStops.filter((code) => code !== 0).length,
      pgStops.length === 0 ? 'none ran' : pgStops.join(' '),
      pgStops.every((code) => code === 0),
    ),
  ];
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function ms(value: number): string {
  return fixed(value, value < 10 ? 2 : 1);
}

const whole = (value: number) => (Number.isFinite(value) ? Math.round(value).toString() : 'n/a');

function table(rows: string[][], rightAligned: Set<number>): string[] {
  const widths = rows[0]?.map((_, column) =>
    Math.max(...rows.map((row) => [...(row[column] ?? '')].length)),
  );
  return rows.map((row) =>
    row
      .map((cell, column) => {
        const width = widths?.[column] ?? 0;
        return rightAligned.has(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
}

const range = (s: Spread, format: (value: number) => string) =>
  `${format(s.min)} – ${format(s.max)}`;

const SLOWEST_SHOWN = 5;

/** The phase's slowest callbacks, split where chargegate records their times (ms). */
function slowestTable(e2e: E2eRecord): string[] {
  if (e2e.slowest.length === 0) return [];
  // chargegate's times are whole milliseconds: so are the parts measured against them. What it
  // has no record of is NaN, which the formatters print as n/a.
  const part = (value: number | null) => whole(value ?? Number.NaN);
  const rows = [
    ['at s', 'e2e', 'sent → taken in', '→ 1st attempt', 'attempt', 'ack'],
    ...e2e.slowest
      .slice(0, SLOWEST_SHOWN)
      .map((slow) => [
        fixed(slow.atS, 2),
        ms(slow.endToEndMs),
        part(slow.intakeMs),
        part(slow.toAttemptMs),
        part(slow.attemptMs),
        ms(slow.ackMs ?? Number.NaN),
      ]),
  ];
  return [
    `  slowest ${rows.length - 1} (ms; the parts on chargegate's clock, whole ms; ids in the JSON):`,
    ...table(rows, new Set([0, 1, 2, 3, 4, 5])).map((line) => `    ${line}`),
  ];
}

export function renderReport(result: BenchResult): string {
  const { options: o, machine: m, e2e, callbacks, memory } = result;
  const lines: string[] = [];
  const mark = (pass: boolean) => (pass ? 'PASS' : 'FAIL');

  lines.push(
    `chargegate bench (${o.quick ? 'quick' : 'full'}): ${o.rounds} interleaved rounds × ${o.durationS} s per target, ` +
      `${o.connections} connections; e2e ${o.e2eRate} and ${o.e2eHighRate} req/s open-loop for ${o.e2eDurationS} s; ` +
      `sustained ${o.sustainedS} s per target`,
    `machine: Node ${m.node}, ${m.cpus} × ${m.cpuModel}, ${fixed(m.memoryGb, 1)} GB, ${m.platform}`,
    `         load average before start ${fixed(m.loadAverage1m, 2)}; database on ${m.databaseFilesystem}`,
    `         commit ${m.commit}${m.srcModified ? ' + uncommitted changes in src/' : ''}; bench took ${fixed(result.wallS, 0)} s`,
    '',
  );

  const noise = otherCpu(result);
  if (noise.max > QUIET_OTHER_CPU) {
    lines.push(
      `WARNING: the machine was not quiet: other processes used ${whole(noise.median)} % of one core ` +
        `(median over the measured runs; up to ${whole(noise.max)} %) out of ${m.cpus * 100} %.`,
      '         Absolute req/s and latencies are depressed by it; the ratios less so (every target',
      '         suffered it), but compare runs only when this line is absent.',
      '',
    );
  }

  const rows: string[][] = [['figure', 'value', 'min – max (rounds)', 'target', 'result']];
  for (const target of ['baseline', 'rest', 'trpc'] as const) {
    const s = throughputOf(result, target);
    rows.push([`${LABELS[target]} req/s (median)`, whole(s.median), range(s, whole), '', '']);
  }
  for (const v of result.verdicts) {
    rows.push([v.figure, v.shown, v.range ?? '', v.target, mark(v.pass)]);
  }
  lines.push(...table(rows, new Set([1])), '');

  const failed = result.verdicts.filter((v) => !v.pass).length;
  lines.push(
    failed === 0
      ? `all ${result.verdicts.length} targets met`
      : `${failed} of ${result.verdicts.length} targets FAILED`,
    '',
  );

  lines.push(
    `e2e (POST written → signed callback received), ${e2e.sent} requests at ${e2e.rate} req/s:`,
    `  p50 ${ms(e2e.latencyMs.p50)}  p90 ${ms(e2e.latencyMs.p90)}  p99 ${ms(e2e.latencyMs.p99)}  max ${ms(e2e.latencyMs.max)} ms` +
      `  (${e2e.latencyMs.count} callbacks; ${e2e.lost} missing after ${e2e.graceS} s grace)`,
    `  acknowledgement: p50 ${ms(e2e.ackLatencyMs.p50)}  p99 ${ms(e2e.ackLatencyMs.p99)}  max ${ms(e2e.ackLatencyMs.max)} ms;` +
      ` sender lag p99 ${ms(e2e.senderLagMs.p99)} max ${ms(e2e.senderLagMs.max)} ms;` +
      ` non-2xx ${e2e.non2xx}, errors ${e2e.errors}`,
    `  CPU (% of one core): chargegate ${whole(e2e.cpu.chargegate)}, load generator ${whole(e2e.cpu.loadgen)}, ` +
      `receiver ${whole(e2e.cpu.receiver)}, other processes ${whole(e2e.cpu.other)}`,
    ...slowestTable(e2e),
    '',
  );

  const high = result.e2eHigh;
  lines.push(
    `e2e at ${high.rate} req/s (reported, no target), ${high.sent} requests:`,
    `  p50 ${ms(high.latencyMs.p50)}  p90 ${ms(high.latencyMs.p90)}  p99 ${ms(high.latencyMs.p99)}  max ${ms(high.latencyMs.max)} ms` +
      `  (${high.latencyMs.count} callbacks; ${high.lost} missing after ${high.graceS} s grace)`,
    `  acknowledgement: p50 ${ms(high.ackLatencyMs.p50)}  p99 ${ms(high.ackLatencyMs.p99)} ms; sender lag p99 ${ms(high.senderLagMs.p99)} ms;` +
      ` non-2xx ${high.non2xx}, errors ${high.errors}; CPU chargegate ${whole(high.cpu.chargegate)} %`,
    '',
  );

  const baselineMedian = throughputOf(result, 'baseline').median;
  const peer = result.backends.find((b) => b.label === PEER_LABEL);
  const backendRows: string[][] = [
    [
      'target',
      'ack/s',
      'ack / baseline',
      'delivered/s',
      'delivered / peer',
      'acked',
      'lost',
      'span s',
      'drain s',
      'peak RSS MB',
    ],
  ];
  for (const b of result.backends) {
    backendRows.push([
      b.label,
      whole(b.ackPerSec),
      fixed(b.ackPerSec / baselineMedian, 2),
      whole(b.deliveredPerSec),
      peer ? fixed(b.deliveredPerSec / peer.deliveredPerSec, 2) : 'n/a',
      String(b.acknowledged),
      String(b.lost),
      fixed(b.spanS, 1),
      b.drain === null ? '-' : b.drain.drained ? fixed(b.drain.ms / 1000, 1) : 'timeout',
      fixed(b.peakRssMb, 1),
    ]);
  }
  lines.push(
    'sustained end to end: saturating load through REST, then its drain. delivered/s = acknowledged',
    '  requests whose signed callback arrived, per second from the first request to the last such',
    '  callback (span); ack / baseline uses the median baseline req/s of the rounds above',
    ...table(backendRows, new Set([1, 2, 3, 4, 5, 6, 7, 8, 9])).map((line) => `  ${line}`),
    ...(result.postgresSkipped ? [`  PostgreSQL left out: ${result.postgresSkipped}`] : []),
    '',
  );

  const r = callbacks.receiver;
  lines.push(
    `callbacks: ${callbacks.acknowledged} acknowledged, ${callbacks.delivered} of them delivered, ${callbacks.lost} lost` +
      (callbacks.lostSample.length > 0
        ? ` (e.g. ${callbacks.lostSample.slice(0, 3).join(', ')})`
        : ''),
    `  receiver: ${r.callbacks} POSTs, ${r.distinct} distinct, ${r.duplicates} duplicates, ${r.malformed} malformed, ` +
      `${r.webhookIdChanged} changed webhook-id; decisions ${JSON.stringify(r.statuses)}`,
    `  ${callbacks.unseenAcks} callbacks for requests cut off at the end of an autocannon run (answer never read);` +
      ' the peer and PostgreSQL phases are counted apart',
    `  server after the final drain (${callbacks.finalDrain.drained ? `${fixed(callbacks.finalDrain.ms / 1000, 1)} s` : 'timed out'}): ` +
      `pending ${callbacks.serverPending.count}${callbacks.serverPending.more ? '+' : ''}, failed ${callbacks.serverFailed.count}${callbacks.serverFailed.more ? '+' : ''}`,
    '',
  );

  lines.push(
    `memory (chargegate): peak ${fixed(memory.peakRssMb, 1)} MB (VmHWM), highest 1 s sample ${fixed(memory.maxSampledRssMb, 1)} MB, ` +
      `at the end ${fixed(memory.finalRssMb, 1)} MB; baseline peak ${fixed(memory.baselinePeakRssMb, 1)} MB`,
    '',
  );

  const perRound: string[][] = [
    [
      'round',
      'baseline',
      'REST',
      'tRPC',
      'REST/b',
      'tRPC/b',
      'p99 b/R/T ms',
      'CPU srv b/R/T',
      'CPU gen b/R/T',
      'CPU rcv R/T',
      'CPU other b/R/T',
      'cb/s R/T',
      'drain R/T s',
    ],
  ];
  const cpu = (
    { baseline, rest, trpc }: BenchResult['rounds'][number]['runs'],
    key: 'loadgen' | 'other',
  ) => `${whole(baseline.cpu[key])}/${whole(rest.cpu[key])}/${whole(trpc.cpu[key])}`;
  const drain = (run: RunRecord) =>
    run.drain === null ? '-' : run.drain.drained ? fixed(run.drain.ms / 1000, 1) : 'timeout';
  for (const round of result.rounds) {
    const { baseline, rest, trpc } = round.runs;
    perRound.push([
      String(round.index),
      whole(baseline.reqPerSec),
      whole(rest.reqPerSec),
      whole(trpc.reqPerSec),
      fixed(rest.reqPerSec / baseline.reqPerSec, 2),
      fixed(trpc.reqPerSec / baseline.reqPerSec, 2),
      `${whole(baseline.latencyMs.p99)}/${whole(rest.latencyMs.p99)}/${whole(trpc.latencyMs.p99)}`,
      `${whole(baseline.cpu.baseline)}/${whole(rest.cpu.chargegate)}/${whole(trpc.cpu.chargegate)}`,
      cpu(round.runs, 'loadgen'),
      `${whole(rest.cpu.receiver)}/${whole(trpc.cpu.receiver)}`,
      cpu(round.runs, 'other'),
      `${whole(rest.callbacksDuringRun / rest.durationS)}/${whole(trpc.callbacksDuringRun / trpc.durationS)}`,
      `${drain(rest)}/${drain(trpc)}`,
    ]);
  }
  lines.push(
    'per round: req/s = 2xx answers per second; p99 = autocannon answer latency; CPU in % of one core',
    '  (srv = the server under load, gen = autocannon in the bench process, rcv = callback receiver,',
    '  other = every other process on the machine); cb/s = callbacks delivered per second during the',
    '  run; drain = time the worker then needed to deliver the rest of the backlog',
    ...table(perRound, new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])).map((line) => `  ${line}`),
    '',
  );

  const allRuns = [
    ...result.warmup,
    ...result.rounds.flatMap((round) => Object.values(round.runs)),
  ];
  const odd = allRuns.filter((run) => run.non2xx > 0 || run.errors > 0 || run.malformedAcks > 0);
  for (const run of odd) {
    lines.push(
      `  ${LABELS[run.target]}: status codes ${JSON.stringify(run.statusCodes)}, errors ${run.errors} (timeouts ${run.timeouts}), malformed acknowledgements ${run.malformedAcks}`,
    );
  }

  const log = result.serverLog;
  lines.push(
    `server log: ${log.lines} lines (${fixed(log.bytes / 1024 ** 2, 1)} MB); ` +
      (log.problems.length === 0
        ? 'nothing at warn or above'
        : `${log.problems.reduce((sum, p) => sum + p.count, 0)} lines at warn or above:`),
  );
  for (const problem of log.problems.slice(0, 10)) {
    lines.push(
      `  ${problem.count} × ${problem.level} "${problem.msg}"`,
      `    first: ${problem.first}`,
    );
  }
  if (log.unstructured.count > 0) {
    lines.push(
      `  ${log.unstructured.count} lines that are not JSON, first: ${log.unstructured.first[0]}`,
    );
  }
  const stop = result.shutdown.chargegate;
  lines.push(
    `shutdown: chargegate ${stop.forced ? 'had to be killed' : `exited ${stop.code ?? stop.signal}`} ${fixed(stop.ms / 1000, 1)} s after SIGTERM`,
  );
  if (result.tempDir) lines.push(`kept: ${result.tempDir} (database and logs)`);
  return lines.join('\n');
}
