import type { Config } from '../config.ts';
import { createPostgresStore } from './postgres/postgres-store.ts';
import { createSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export type OpenStoreOptions = {
  now?: () => number;
  /** Called with the number of writes sharing each commit. */
  onCommitBatch?: (size: number) => void;
  /** Database errors that no caller awaited (an idle connection broke). */
  onError?: (error: Error) => void;
};

/** The store the configuration names. Opening does not migrate: call `migrate()`. */
export function openStore(
  config: Pick<Config, 'databasePath' | 'databaseSync'> &
    Partial<Pick<Config, 'databaseUrl' | 'databasePoolSize' | 'databaseListen'>>,
  { now = Date.now, onCommitBatch, onError }: OpenStoreOptions = {},
): Store {
  if (config.databaseUrl !== undefined) {
    return createPostgresStore({
      url: config.databaseUrl,
      poolSize: config.databasePoolSize ?? 10,
      listen: config.databaseListen ?? true,
      now,
      onCommitBatch,
      onError,
    });
  }
  return createSqliteStore({
    path: config.databasePath,
    sync: config.databaseSync,
    now,
    onCommitBatch,
    onError,
  });
}
