import { statSync } from 'node:fs';

/**
 * Which file the database was opened on. If the path is deleted or replaced while the process
 * runs, the open connection keeps writing to a file nobody will read again: every commit would be
 * acknowledged and then lost at the next start. Comparing the path's device and inode with the
 * ones opened catches both, for the price of one stat per check.
 */
export type FileIdentity = {
  /** The device and inode the path named when it was opened (none for an in-memory database). */
  readonly opened: OpenedFile | undefined;
  /** What happened to the file, or undefined while the path still names the file opened. */
  problem(): string | undefined;
};

export type OpenedFile = { dev: number; ino: number };

/** The code of the error a write gets once the path no longer names the file opened. */
export const FILE_GONE = 'DATABASE_FILE_GONE';

/**
 * The identity of the file at `path`, as it is now or as `opened` says it was (the writer thread
 * checks against the file the main thread opened, not the one it finds when it starts).
 */
export function fileIdentity(path: string, opened?: OpenedFile): FileIdentity {
  if (path === ':memory:' || path.startsWith('file:')) {
    return { opened: undefined, problem: () => undefined };
  }
  const { dev, ino } = opened ?? statSync(path);
  return {
    opened: { dev, ino },
    problem() {
      let now: ReturnType<typeof statSync>;
      try {
        now = statSync(path);
      } catch {
        return `the database file ${path} was deleted while chargegate had it open`;
      }
      if (now.ino !== ino || now.dev !== dev) {
        return `the database file ${path} was replaced by another file while chargegate had it open`;
      }
      return undefined;
    },
  };
}
