import { z } from 'zod';
import { parseCidrList } from './domain/address-policy.ts';
import { parseRetrySchedule } from './domain/retry-schedule.ts';
import { webhookSecretKey } from './domain/webhook-secret.ts';

/**
 * The environment, parsed once. Every variable is optional; an empty value counts as unset.
 * A bad value is reported with the variable's name and what it accepts.
 */

/** The longest single step (authorizer call or callback attempt). */
const MAX_STEP_MS = 600_000;

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const integer = (min: number, max: number, fallback: number) =>
  wholeNumber(min, max).default(fallback);

const parsedWith = <T>(parse: (text: string) => T, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parse(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });

/** Variables whose values never appear in a message. */
const SECRETS = new Set([
  'WEBHOOK_SECRET',
  'ADMIN_TOKEN',
  'METRICS_TOKEN',
  'AUTHORIZER_TOKEN',
  'DATABASE_URL',
]);

/** How a remote authorizer is asked; each has one file in `worker/authorizers/`. */
export const AUTHORIZER_PROTOCOLS = ['chargegate', 'ocpi-2.2.1'] as const;
export type AuthorizerProtocol = (typeof AUTHORIZER_PROTOCOLS)[number];

/** OCPI 2.2.1 `TokenType`, sent as `?type=` on a real-time authorization. */
export const OCPI_TOKEN_TYPES = ['AD_HOC_USER', 'APP_USER', 'OTHER', 'RFID'] as const;
export type OcpiTokenType = (typeof OCPI_TOKEN_TYPES)[number];

const oneOf = (values: readonly string[]) => `must be one of ${values.join(', ')}`;

/** A bearer token shorter than this is guessable; the start is refused rather than exposed. */
export const MIN_TOKEN_LENGTH = 16;

const bearerToken = z
  .string()
  .min(MIN_TOKEN_LENGTH, `must be at least ${MIN_TOKEN_LENGTH} characters long`)
  .optional();

/**
 * Open client connections at most. It fits the usual soft limit of 1,024 open files with room
 * for the callback and authorizer pools, the database and the logs, and bounds the memory that
 * stalled connections can hold (tens of KB each) to a small part of the heap.
 */
export const DEFAULT_MAX_CONNECTIONS = 800;

const httpUrl = z
  .string()
  .refine((text) => URL.canParse(text) && /^https?:$/.test(new URL(text).protocol), {
    message: 'must be an absolute http or https URL',
  });

const postgresUrl = z
  .string()
  .refine((text) => URL.canParse(text) && /^postgres(ql)?:$/.test(new URL(text).protocol), {
    message: 'must be a postgres:// or postgresql:// URL',
  });

const onOff = z.enum(['on', 'off'], { message: 'must be "on" or "off"' });

/** The schema of the environment, made when it is read: nothing of it stays in memory after. */
const envSchema = () =>
  z.object({
    PORT: integer(0, 65_535, 3000),
    HOST: z.string().default('127.0.0.1'),
    DATABASE_URL: postgresUrl.optional(),
    DATABASE_POOL_SIZE: integer(1, 1_000, 10),
    DATABASE_LISTEN: onOff.default('on'),
    DATABASE_PATH: z.string().default('./data/chargegate.db'),
    DATABASE_SYNC: z
      .enum(['full', 'normal'], { message: 'must be "full" or "normal"' })
      .default('full'),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        message: 'must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
    AUTHORIZER_URL: httpUrl.optional(),
    AUTHORIZER_TIMEOUT_MS: integer(1, MAX_STEP_MS, 5_000),
    AUTHORIZER_PROTOCOL: z
      .enum(AUTHORIZER_PROTOCOLS, { message: oneOf(AUTHORIZER_PROTOCOLS) })
      .default('chargegate'),
    AUTHORIZER_TOKEN: z.string().optional(),
    AUTHORIZER_TOKEN_TYPE: z
      .enum(OCPI_TOKEN_TYPES, { message: oneOf(OCPI_TOKEN_TYPES) })
      .default('RFID'),
    WEBHOOK_SECRET: z
      .string()
      .superRefine((text, ctx) => {
        try {
          webhookSecretKey(text);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: (error as Error).message });
        }
      })
      .optional(),
    CALLBACK_TIMEOUT_MS: integer(1, MAX_STEP_MS, 15_000),
    CALLBACK_RETRY_SCHEDULE: parsedWith(parseRetrySchedule, '5s,5m,30m,2h,5h,10h,10h'),
    CALLBACK_ALLOWED_CIDRS: parsedWith(parseCidrList, ''),
    ADMIN_TOKEN: bearerToken,
    METRICS_TOKEN: bearerToken,
    WORKER_CONCURRENCY: integer(1, 10_000, 64),
    CALLBACK_CONCURRENCY_PER_ORIGIN: wholeNumber(1, 10_000).optional(),
    WORKER_POLL_INTERVAL_MS: integer(10, 60_000, 1_000),
    WORKER_NICE: integer(0, 19, 19),
    RETENTION_DAYS: integer(1, 36_500, 30),
    SHUTDOWN_TIMEOUT_MS: integer(0, 600_000, 20_000),
    WORKER_LEASE_MS: integer(1_000, 86_400_000, 60_000),
    REQUEST_TIMEOUT_MS: integer(100, 600_000, 10_000),
    MAX_CONNECTIONS: integer(1, 1_000_000, DEFAULT_MAX_CONNECTIONS),
  });

export type Config = Readonly<{
  port: number;
  host: string;
  /** Set: everything lives in this PostgreSQL database, and `databasePath` is ignored. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** LISTEN/NOTIFY wake-ups across instances (PostgreSQL); off = poll only. */
  databaseListen: boolean;
  databasePath: string;
  databaseSync: 'full' | 'normal';
  logLevel: string;
  authorizerUrl: string | undefined;
  authorizerTimeoutMs: number;
  authorizerProtocol: AuthorizerProtocol;
  authorizerToken: string | undefined;
  authorizerTokenType: OcpiTokenType;
  webhookSecret: string | undefined;
  callbackTimeoutMs: number;
  callbackRetrySchedule: readonly number[];
  callbackAllowedCidrs: ReturnType<typeof parseCidrList>;
  adminToken: string | undefined;
  metricsToken: string | undefined;
  workerConcurrency: number;
  /** Callback attempts in flight to one origin (scheme, host, port) at most. */
  callbackConcurrencyPerOrigin: number;
  workerPollIntervalMs: number;
  /**
   * The nice value of the worker's thread where the process also serves HTTP (Linux); 0 = the
   * usual priority.
   */
  workerNice: number;
  retentionDays: number;
  shutdownTimeoutMs: number;
  workerLeaseMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
}>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment into a frozen Config, or throws a ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const schema = envSchema();
  const present = Object.fromEntries(
    Object.keys(schema.shape)
      .map((key) => [key, env[key]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = schema.safeParse(present);
  const got = (name: string) => (SECRETS.has(name) ? '' : ` (got ${JSON.stringify(env[name])})`);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `${name} ${issue.message}${got(name)}`;
    });
    throw new ConfigError(`invalid configuration: ${lines.join('; ')}`);
  }
  const e = result.data;
  const problems = [...authorizerProblems(e), ...leaseProblems(e), ...perOriginProblems(e)];
  if (problems.length > 0) {
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databaseListen: e.DATABASE_LISTEN === 'on',
    databasePath: e.DATABASE_PATH,
    databaseSync: e.DATABASE_SYNC,
    logLevel: e.LOG_LEVEL,
    authorizerUrl:
      e.AUTHORIZER_PROTOCOL === 'ocpi-2.2.1'
        ? e.AUTHORIZER_URL?.replace(/\/+$/, '')
        : e.AUTHORIZER_URL,
    authorizerTimeoutMs: e.AUTHORIZER_TIMEOUT_MS,
    authorizerProtocol: e.AUTHORIZER_PROTOCOL,
    authorizerToken: e.AUTHORIZER_TOKEN,
    authorizerTokenType: e.AUTHORIZER_TOKEN_TYPE,
    webhookSecret: e.WEBHOOK_SECRET,
    callbackTimeoutMs: e.CALLBACK_TIMEOUT_MS,
    callbackRetrySchedule: Object.freeze(e.CALLBACK_RETRY_SCHEDULE),
    callbackAllowedCidrs: Object.freeze(e.CALLBACK_ALLOWED_CIDRS) as Config['callbackAllowedCidrs'],
    adminToken: e.ADMIN_TOKEN,
    metricsToken: e.METRICS_TOKEN,
    workerConcurrency: e.WORKER_CONCURRENCY,
    callbackConcurrencyPerOrigin:
      e.CALLBACK_CONCURRENCY_PER_ORIGIN ?? defaultPerOriginConcurrency(e.WORKER_CONCURRENCY),
    workerPollIntervalMs: e.WORKER_POLL_INTERVAL_MS,
    workerNice: e.WORKER_NICE,
    retentionDays: e.RETENTION_DAYS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    workerLeaseMs: e.WORKER_LEASE_MS,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    maxConnections: e.MAX_CONNECTIONS,
  });
}

/**
 * Half the worker's concurrency, rounded up (32 of the default 64): an origin that hangs leaves
 * the other half to everyone else, while the usual deployment, one receiving origin, keeps most
 * of its throughput (attempts in flight share their commits, so a smaller cap slows its delivery down).
 */
export function defaultPerOriginConcurrency(workerConcurrency: number): number {
  return Math.ceil(workerConcurrency / 2);
}

function perOriginProblems(e: z.infer<ReturnType<typeof envSchema>>): string[] {
  const perOrigin = e.CALLBACK_CONCURRENCY_PER_ORIGIN;
  return perOrigin !== undefined && perOrigin > e.WORKER_CONCURRENCY
    ? [
        `CALLBACK_CONCURRENCY_PER_ORIGIN (${perOrigin}) must be at most WORKER_CONCURRENCY (${e.WORKER_CONCURRENCY})`,
      ]
    : [];
}

/**
 * A lease must outlast the longest step done under it, or another instance would take the work
 * over while it is still being done.
 */
function leaseProblems(e: z.infer<ReturnType<typeof envSchema>>): string[] {
  return (['CALLBACK_TIMEOUT_MS', 'AUTHORIZER_TIMEOUT_MS'] as const)
    .filter((name) => e[name] >= e.WORKER_LEASE_MS)
    .map(
      (name) =>
        `WORKER_LEASE_MS (${e.WORKER_LEASE_MS}) must be greater than ${name} (${e[name]}): a claim must outlast the step it covers`,
    );
}

/**
 * The authorizer variables that only make sense together. Messages name variables, never the
 * token's value.
 */
function authorizerProblems(e: z.infer<ReturnType<typeof envSchema>>): string[] {
  if (e.AUTHORIZER_PROTOCOL !== 'ocpi-2.2.1') {
    return e.AUTHORIZER_TOKEN === undefined
      ? []
      : ['AUTHORIZER_TOKEN is only used with AUTHORIZER_PROTOCOL=ocpi-2.2.1'];
  }
  const problems: string[] = [];
  const url = e.AUTHORIZER_URL;
  if (url === undefined) {
    problems.push(
      "AUTHORIZER_PROTOCOL=ocpi-2.2.1 needs AUTHORIZER_URL, the eMSP's Tokens endpoint (ending in /tokens)",
    );
  } else {
    const { pathname, search, hash } = new URL(url);
    if (!/\/tokens\/?$/.test(pathname) || search !== '' || hash !== '') {
      problems.push(
        `AUTHORIZER_URL must be the eMSP's OCPI Tokens endpoint, ending in /tokens, without a query (got ${JSON.stringify(url)})`,
      );
    }
  }
  if (e.AUTHORIZER_TOKEN === undefined) {
    problems.push(
      'AUTHORIZER_PROTOCOL=ocpi-2.2.1 needs AUTHORIZER_TOKEN, the OCPI credentials token',
    );
  }
  return problems;
}
