import { type Config, loadConfig } from '../../src/config.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** A config for tests: loopback callbacks allowed, quick retries, admin enabled. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_PATH: ':memory:',
    LOG_LEVEL: 'silent',
    CALLBACK_ALLOWED_CIDRS: '127.0.0.0/8,::1/128',
    CALLBACK_RETRY_SCHEDULE: '50ms,50ms,50ms',
    CALLBACK_TIMEOUT_MS: '2000',
    ADMIN_TOKEN,
    WORKER_POLL_INTERVAL_MS: '50',
    ...env,
  });
}
