import { statSync } from 'node:fs';

/**
 * Which file the database was opened on. If the path is deleted or replaced while the process
 * runs, the open connection keeps writing to a file nobody will read again: every commit would be
 * acknowledged and then lost at the next start. Comparing the path's device and inode with the
 * ones opened catches both, for the price of one stat per check.
 */
export type FileIdentity = {
  /** What happened to the file, or undefined while the path still names the file opened. */
  problem(): string | undefined;
};

export function fileIdentity(path: string): FileIdentity {
  if (path === ':memory:' || path.startsWith('file:')) return { problem: () => undefined };
  const opened = statSync(path);
  return {
    problem() {
      let now: ReturnType<typeof statSync>;
      try {
        now = statSync(path);
      } catch {
        return `the database file ${path} was deleted while chargegate had it open`;
      }
      if (now.ino !== opened.ino || now.dev !== opened.dev) {
        return `the database file ${path} was replaced by another file while chargegate had it open`;
      }
      return undefined;
    },
  };
}
