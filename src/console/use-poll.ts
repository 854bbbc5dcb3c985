import { useEffect, useRef, useState } from 'preact/hooks';
import { errorMessage } from './api.ts';

export type Polled<T> = { data: T | undefined; error: string | null; reload: () => void };

/**
 * Loads at once and again every `intervalMs` (0 = only on `reload` or when `deps` change).
 * One load at a time; a stale answer never overwrites a newer one.
 */
export function usePoll<T>(
  load: () => Promise<T>,
  intervalMs: number,
  deps: readonly unknown[],
): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const value = await loadRef.current();
        if (stopped) return;
        setData(value);
        setError(null);
      } catch (cause) {
        if (!stopped) setError(errorMessage(cause));
      }
      if (!stopped && intervalMs > 0) timer = setTimeout(tick, intervalMs);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [...deps, round, intervalMs]);

  return { data, error, reload: () => setRound((n) => n + 1) };
}
