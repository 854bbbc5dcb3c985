import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Lowers the calling thread's CPU priority to `nice` (1–19; 19 is the lowest), so that while the
 * process's other threads want every core the kernel runs them first and this thread on what they
 * leave; when cores are free it runs as fast as ever. Linux schedules each thread on its own, and
 * a thread's id for the kernel is the last part of `/proc/thread-self`; elsewhere nothing changes.
 * Raising a nice value needs no privilege, but lowering it again does: the thread keeps it, and
 * a thread already at `nice` or above (a process started with `nice`) stays where it is. Returns
 * whether the thread runs at `nice` or lower a priority.
 */
export function lowerThisThreadsPriority(nice: number): boolean {
  const threadId = thisThreadsId();
  if (threadId === undefined) return false;
  try {
    if (getPriority(threadId) < nice) setPriority(threadId, nice);
    return true;
  } catch {
    return false;
  }
}

/** The calling thread's id for the kernel (Linux), or undefined where it cannot be told. */
export function thisThreadsId(): number | undefined {
  try {
    const id = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isSafeInteger(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
