import { setFlagsFromString } from 'node:v8';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread of chargegate's own: the compiled module next to the caller, or under the
 * tests its TypeScript source, loaded through tsx registered inside the thread.
 *
 * V8 lets the process's own `--max-semi-space-size` and `--max-old-space-size` (set by `npm start`
 * for the main thread) override a new isolate's `resourceLimits`, which would give every thread
 * the main thread's large young generation: tens of MB more resident memory for threads that hold
 * a batch or a claim at a time. Unsetting them before a thread starts lets its own limits apply;
 * the main isolate keeps the limits it was created with.
 */
export function spawnThread(url: URL, options: WorkerOptions): Worker {
  setFlagsFromString('--max-semi-space-size=0');
  setFlagsFromString('--max-old-space-size=0');
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const script = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(script, { ...options, eval: true });
}

/** A module next to `base` (an `import.meta.url`): `.js` when compiled, `.ts` under the tests. */
export function siblingModule(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}
