/**
 * Whether the database accepts writes, as readiness reports it: the outcome of the last commit,
 * and once one failed for a reason of the database's own (disk full, read-only, I/O), a cheap
 * write probe on every check until one succeeds. Reads alone cannot tell: a full disk still
 * answers SELECT.
 */
export type WriteHealth = {
  succeeded(): void;
  failed(error: unknown): void;
  writable(): Promise<boolean>;
};

export function createWriteHealth(
  probe: () => unknown,
  isTransient: (error: unknown) => boolean,
): WriteHealth {
  let failing = false;
  return {
    succeeded() {
      failing = false;
    },
    failed(error) {
      if (isTransient(error)) failing = true;
    },
    async writable() {
      if (!failing) return true;
      try {
        await probe();
        failing = false;
        return true;
      } catch {
        return false;
      }
    },
  };
}
