import { z } from 'zod';

/**
 * The bench's knobs, read once from the environment and the command line. `--quick` changes the
 * defaults to a smoke run of about a minute; an explicit variable still wins over either profile.
 */

export type BenchOptions = Readonly<{
  quick: boolean;
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  e2eRate: number;
  /** A second open-loop rate, reported beside the target's. */
  e2eHighRate: number;
  e2eDurationS: number;
  graceS: number;
  drainTimeoutS: number;
  verifyEvery: number;
  /** Seconds of saturating load per target in the sustained phase. */
  sustainedS: number;
  /** The PostgreSQL server's admin URL, or null to leave PostgreSQL out. */
  postgresUrl: string | null;
  keep: boolean;
  tmpDir: string | undefined;
}>;

const PROFILES = {
  full: {
    rounds: 4,
    durationS: 10,
    warmupS: 3,
    e2eDurationS: 20,
    graceS: 10,
    drainTimeoutS: 120,
    sustainedS: 10,
  },
  quick: {
    rounds: 2,
    durationS: 4,
    warmupS: 1,
    e2eDurationS: 8,
    graceS: 5,
    drainTimeoutS: 60,
    sustainedS: 4,
  },
} as const;

const whole = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional();

const envSchema = z.object({
  BENCH_ROUNDS: whole(1, 50),
  BENCH_DURATION_S: whole(1, 600),
  BENCH_WARMUP_S: whole(0, 120),
  BENCH_CONNECTIONS: whole(1, 1000),
  BENCH_E2E_RATE: whole(1, 10_000),
  BENCH_E2E_HIGH_RATE: whole(1, 10_000),
  BENCH_E2E_DURATION_S: whole(1, 600),
  BENCH_GRACE_S: whole(1, 600),
  BENCH_DRAIN_TIMEOUT_S: whole(1, 3600),
  BENCH_VERIFY_EVERY: whole(1, 1_000_000),
  BENCH_SUSTAINED_S: whole(1, 600),
  BENCH_POSTGRES_URL: z.string().optional(),
  BENCH_KEEP: z.enum(['0', '1', 'true', 'false']).optional(),
  BENCH_TMPDIR: z.string().optional(),
});

export const USAGE = `usage: npm run bench [-- --quick]

  --quick                  ~1 minute smoke run (fewer, shorter rounds)
  --help                   this text

environment (defaults: full / quick):
  BENCH_ROUNDS             interleaved throughput rounds              (${PROFILES.full.rounds} / ${PROFILES.quick.rounds})
  BENCH_DURATION_S         seconds per target per round               (${PROFILES.full.durationS} / ${PROFILES.quick.durationS})
  BENCH_WARMUP_S           unrecorded seconds per target first        (${PROFILES.full.warmupS} / ${PROFILES.quick.warmupS})
  BENCH_CONNECTIONS        autocannon connections                     (50)
  BENCH_E2E_RATE           open-loop requests per second              (200)
  BENCH_E2E_HIGH_RATE      a second open-loop rate, reported          (1000)
  BENCH_E2E_DURATION_S     seconds of open-loop load                  (${PROFILES.full.e2eDurationS} / ${PROFILES.quick.e2eDurationS})
  BENCH_GRACE_S            wait for late callbacks after it           (${PROFILES.full.graceS} / ${PROFILES.quick.graceS})
  BENCH_DRAIN_TIMEOUT_S    longest wait for the worker's backlog      (${PROFILES.full.drainTimeoutS} / ${PROFILES.quick.drainTimeoutS})
  BENCH_VERIFY_EVERY       verify 1 in N signatures under full load   (25; every one in the e2e phase)
  BENCH_SUSTAINED_S        saturating seconds per sustained target    (${PROFILES.full.sustainedS} / ${PROFILES.quick.sustainedS})
  BENCH_POSTGRES_URL       PostgreSQL admin URL; "off" leaves it out  (postgres://postgres@127.0.0.1:5432/postgres)
  BENCH_KEEP=1             keep the temp dir (database, server logs)
  BENCH_TMPDIR             where the temp dir goes                    (the OS temp dir)
`;

export class OptionsError extends Error {
  override name = 'OptionsError';
}

export function parseOptions(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): BenchOptions | 'help' {
  const flags = new Set(argv);
  if (flags.has('--help') || flags.has('-h')) return 'help';
  const unknown = [...flags].filter((flag) => flag !== '--quick');
  if (unknown.length > 0) throw new OptionsError(`unknown argument ${unknown.join(' ')}`);

  const present = Object.fromEntries(
    Object.keys(envSchema.shape)
      .map((key) => [key, env[key]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${String(issue.path[0])} ${issue.message}`);
    throw new OptionsError(lines.join('; '));
  }
  const e = parsed.data;
  const quick = flags.has('--quick');
  const profile = quick ? PROFILES.quick : PROFILES.full;
  return Object.freeze({
    quick,
    rounds: e.BENCH_ROUNDS ?? profile.rounds,
    durationS: e.BENCH_DURATION_S ?? profile.durationS,
    warmupS: e.BENCH_WARMUP_S ?? profile.warmupS,
    connections: e.BENCH_CONNECTIONS ?? 50,
    e2eRate: e.BENCH_E2E_RATE ?? 200,
    e2eHighRate: e.BENCH_E2E_HIGH_RATE ?? 1000,
    e2eDurationS: e.BENCH_E2E_DURATION_S ?? profile.e2eDurationS,
    graceS: e.BENCH_GRACE_S ?? profile.graceS,
    drainTimeoutS: e.BENCH_DRAIN_TIMEOUT_S ?? profile.drainTimeoutS,
    verifyEvery: e.BENCH_VERIFY_EVERY ?? 25,
    sustainedS: e.BENCH_SUSTAINED_S ?? profile.sustainedS,
    postgresUrl:
      e.BENCH_POSTGRES_URL === 'off'
        ? null
        : (e.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'),
    keep: e.BENCH_KEEP === '1' || e.BENCH_KEEP === 'true',
    tmpDir: e.BENCH_TMPDIR,
  });
}
