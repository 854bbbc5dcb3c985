import { defineConfig } from 'vitest/config';

/**
 * Two projects: `sqlite` runs every test on the embedded default; `postgres` runs again every test
 * whose outcome depends on the database (the API, the worker, the CLI, real processes, the store
 * contract) with CHARGEGATE_TEST_BACKEND=postgres, each test file on databases of its own.
 */
const DATABASE_TESTS = [
  'test/api/**/*.test.ts',
  'test/worker/**/*.test.ts',
  'test/store/*.test.ts',
  'test/cli/commands.test.ts',
  'test/cli/serve.test.ts',
  'test/process/**/*.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Process-level tests start real servers; a second fork keeps both cores busy.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'sqlite', include: ['test/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: DATABASE_TESTS,
          // Pure mappings, and tests of the SQLite file the README's commands use, run once.
          exclude: [
            'test/worker/authorizers/**',
            'test/worker/sign.test.ts',
            'test/worker/circuit-breaker.test.ts',
            'test/worker/delivery-controller.test.ts',
            'test/worker/origin-gate.test.ts',
            'test/worker/worker-metrics.test.ts',
            'test/worker/deliver.test.ts',
            // The queue a SQLite file shares with the worker's thread; PostgreSQL shares none.
            'test/worker/threaded-worker.test.ts',
            'test/process/startup.test.ts',
            'test/process/readme-round-trip.test.ts',
          ],
          env: { CHARGEGATE_TEST_BACKEND: 'postgres' },
          globalSetup: ['test/global-setup-postgres.ts'],
        },
      },
    ],
  },
});
