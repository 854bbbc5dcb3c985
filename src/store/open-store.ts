import type { Config } from '../config.ts';
import { createSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export type OpenStoreOptions = {
  now?: () => number;
  /** Called with the number of writes sharing each commit. */
  onCommitBatch?: (size: number) => void;
};

/** The store the configuration names. Opening does not migrate: call `migrate()`. */
export function openStore(
  config: Pick<Config, 'databasePath' | 'databaseSync'>,
  { now = Date.now, onCommitBatch }: OpenStoreOptions = {},
): Store {
  return createSqliteStore({
    path: config.databasePath,
    sync: config.databaseSync,
    now,
    onCommitBatch,
  });
}
