import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export type ConnectionOptions = {
  /** A file path, or `:memory:`. The file's folder is created when missing. */
  path: string;
  /** `full`: a commit survives power loss; `normal`: it survives a crash of the process. */
  sync: 'full' | 'normal';
};

/**
 * The page cache of each connection, in KiB: SQLite's own default. better-sqlite3 builds SQLite
 * with 16 MB instead, which the writer's connection fills as the database grows (its malloc arena
 * held 18.5 MB under load); the operating system's page cache still holds the file, so a page
 * that drops out of this one is a read from memory, not from the disk.
 */
const PAGE_CACHE_KIB = 2000;

/**
 * Opens a better-sqlite3 connection in WAL mode with foreign keys on: the settings every
 * connection of chargegate uses, the main thread's and the writer thread's alike.
 */
export function openConnection({ path, sync }: ConnectionOptions): BetterSqlite3.Database {
  if (!isMemoryPath(path)) mkdirSync(dirname(path), { recursive: true });
  const client = new BetterSqlite3(path);
  client.pragma('journal_mode = WAL');
  client.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
  client.pragma('busy_timeout = 5000');
  client.pragma('foreign_keys = ON');
  client.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  return client;
}

/** Paths that name no file of their own: a second connection would see another database. */
export function isMemoryPath(path: string): boolean {
  return path === ':memory:' || path.startsWith('file:');
}
