/**
 * The database cannot take work right now (unreachable, restarting, full, read-only, locked, the
 * file gone): the caller may try again later. The api layer answers 503 with Retry-After; the
 * worker waits a poll interval. Anything else a store throws is a fault of its own (a bug, a
 * constraint) and stays a 500.
 */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(cause: unknown) {
    super(`the database is unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/**
 * Wraps every method of `methods` that answers a promise: errors `isTransient` recognises become
 * StoreUnavailableError. Async iterators are passed through as they are.
 */
export function guardMethods<T extends object>(
  methods: T,
  isTransient: (e: unknown) => boolean,
): T {
  const translate = (error: unknown) =>
    isTransient(error) && !(error instanceof StoreUnavailableError)
      ? new StoreUnavailableError(error)
      : error;
  const guarded: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(methods)) {
    const wrap =
      typeof method === 'function' && method.constructor.name !== 'AsyncGeneratorFunction';
    guarded[name] = wrap
      ? (...args: unknown[]) => {
          try {
            return Promise.resolve(method(...args)).catch((error: unknown) => {
              throw translate(error);
            });
          } catch (error) {
            return Promise.reject(translate(error));
          }
        }
      : method;
  }
  return guarded as T;
}
