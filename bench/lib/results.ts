import type { Drain } from './chargegate-admin.ts';
import type { MachineInfo } from './machine.ts';
import type { BenchOptions } from './options.ts';
import type { RssSample } from './proc.ts';
import type { ReceiverSummary } from './receiver-protocol.ts';
import type { LogScan } from './server-log.ts';
import type { StopResult } from './spawn-server.ts';
import type { LatencySummary } from './stats.ts';
import type { SustainedRecord } from './sustained.ts';
import type { TargetName, ThroughputRun } from './throughput.ts';

/** Everything one bench run measured; written as JSON and rendered as the table. */

/**
 * CPU used during a run, in percent of one core, per process; `other` is everything else on the
 * machine (another user's work skews the figures: compare it across rounds).
 */
export type CpuUse = {
  chargegate: number;
  baseline: number;
  loadgen: number;
  receiver: number;
  other: number;
};

export type RunRecord = Omit<ThroughputRun, 'ackIds'> & {
  cpu: CpuUse;
  /**
   * Callbacks the receiver got while the run lasted: with the drain, it shows whether the worker
   * keeps up with intake or is starved by it.
   */
  callbacksDuringRun: number;
  /** For chargegate targets: how long the worker took to deliver the backlog afterwards. */
  drain: Drain | null;
};

export type Round = { index: number; runs: Record<TargetName, RunRecord> };

export type E2eRecord = {
  rate: number;
  durationS: number;
  sent: number;
  acknowledged: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  errors: number;
  firstError: string | null;
  /** POST written → callback received, for callbacks that arrived within the grace period. */
  latencyMs: LatencySummary;
  /** POST written → 200 received. */
  ackLatencyMs: LatencySummary;
  /** Acknowledged, but no callback within the grace period. */
  lost: number;
  graceS: number;
  /** How late the sender wrote requests relative to their schedule; large = generator overloaded. */
  senderLagMs: { p99: number; max: number };
  cpu: CpuUse;
  /** The slowest callbacks of the phase, slowest first: where a p99 went, once it misses. */
  slowest: SlowRequest[];
};

/**
 * One slow request, its time split at the points chargegate records (its own clock, whole
 * milliseconds; the bench's send time is put on the same clock): sent → taken in → first attempt
 * started → attempt over. Null where chargegate has no record of that point.
 */
export type SlowRequest = {
  requestId: string;
  /** Seconds from the phase's first request to this one's. */
  atS: number;
  endToEndMs: number;
  ackMs: number | null;
  /** POST written → chargegate's handler took it in (network, parsing, the event loop's queue). */
  intakeMs: number;
  /** Taken in → its first attempt started (the commit, the worker's wake-up and claim). */
  toAttemptMs: number | null;
  /** The first attempt's POST to the receiver, until its answer. */
  attemptMs: number | null;
};

/** One target of the sustained phase: the peer, SQLite, PostgreSQL with one or two instances. */
export type BackendRecord = SustainedRecord & {
  /** VmHWM of its process (the larger of two instances). */
  peakRssMb: number;
  /** Exit codes after SIGTERM, for the instances started for this phase (-1 = killed). */
  shutdownCodes?: number[];
};

export type CallbackRecord = {
  /** requestIds chargegate acknowledged (as seen in its responses), all phases. */
  acknowledged: number;
  delivered: number;
  lost: number;
  lostSample: string[];
  /** Callbacks for requests whose answer the load generator never read (cut off at a run's end). */
  unseenAcks: number;
  receiver: ReceiverSummary;
  /** The server's own view after the final drain. */
  serverPending: { count: number; more: boolean };
  serverFailed: { count: number; more: boolean };
  finalDrain: Drain;
};

export type MemoryRecord = {
  /** VmHWM of the chargegate process just before it was stopped. */
  peakRssMb: number;
  maxSampledRssMb: number;
  finalRssMb: number;
  samples: RssSample[];
  baselinePeakRssMb: number;
};

export type Verdict = {
  figure: string;
  /** Performance targets measure speed; correctness ones must hold on any machine. */
  kind: 'performance' | 'correctness';
  value: number;
  shown: string;
  /** For figures taken per round: the min – max over rounds. */
  range: string | null;
  target: string;
  pass: boolean;
};

export type BenchResult = {
  startedAt: string;
  wallS: number;
  options: BenchOptions;
  machine: MachineInfo;
  processes: Record<'chargegate' | 'baseline' | 'receiver', { pid: number; command: string }>;
  warmup: RunRecord[];
  rounds: Round[];
  e2e: E2eRecord;
  /** The same at BENCH_E2E_HIGH_RATE, reported beside the target. */
  e2eHigh: E2eRecord;
  /** Sustained end to end: peer, SQLite ×1, PostgreSQL ×1, PostgreSQL ×2 (when reachable). */
  backends: BackendRecord[];
  postgresSkipped: string | null;
  callbacks: CallbackRecord;
  memory: MemoryRecord;
  shutdown: { chargegate: StopResult; baseline: StopResult };
  serverLog: LogScan;
  verdicts: Verdict[];
  tempDir: string | null;
};
