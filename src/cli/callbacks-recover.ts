import { z } from 'zod';
import { usageError } from './errors.ts';
import { type CliContext, cliConfig, requireExistingDatabase, withStore } from './open.ts';

/** `chargegate callbacks recover`: failed callbacks of a window of requests go back to pending. */

const instantSchema = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

/** An ISO 8601 date-time with an offset, or a date (midnight UTC), in epoch milliseconds. */
export function parseInstant(option: string, text: string): number {
  if (!instantSchema.safeParse(text).success) {
    throw usageError(
      `${option} must be an ISO 8601 date-time such as 2026-01-01T00:00:00Z or a date such as 2026-01-01 (got ${JSON.stringify(text)})`,
    );
  }
  return Date.parse(text);
}

export type RecoveryWindow = { since: number; until: number };

/** The window [since, until); `until` defaults to now. */
export function recoveryWindow(
  since: string,
  until: string | undefined,
  now: number,
): RecoveryWindow {
  const window = {
    since: parseInstant('--since', since),
    until: until === undefined ? now : parseInstant('--until', until),
  };
  if (window.since >= window.until) {
    throw usageError(
      `--since (${new Date(window.since).toISOString()}) must be before --until (${new Date(window.until).toISOString()})`,
    );
  }
  return window;
}

export type RecoverOptions = { since: string; until?: string };

export async function callbacksRecoverCommand(
  ctx: CliContext,
  options: RecoverOptions,
): Promise<void> {
  const config = cliConfig(ctx);
  const window = recoveryWindow(options.since, options.until, ctx.now());
  requireExistingDatabase(config);
  const count = await withStore(config, ctx, (store) =>
    store.requests.requeueFailed(window.since, window.until),
  );
  const from = new Date(window.since).toISOString();
  const to = new Date(window.until).toISOString();
  ctx.stdout.write(
    `re-queued ${count} failed callback${count === 1 ? '' : 's'} of requests created from ${from} until ${to}\n`,
  );
  if (count > 0) ctx.stderr.write('a running worker sends them at its next poll\n');
}
