import { type ChildProcess, spawn } from 'node:child_process';
import { sleep } from './clock.ts';
import type { IdList } from './id-list.ts';
import type { FromReceiver, ReceiverSummary, ToReceiver } from './receiver-protocol.ts';
import { ROOT } from './spawn-server.ts';

/** The bench process's handle on the callback receiver child (bench/receiver-server.ts). */

export type Receiver = {
  /** The callbackUrl every request carries. */
  url: string;
  pid: number;
  /** Verify every callback's signature (`true`) or a sample of them. */
  verifyAll(all: boolean): void;
  /** First-arrival times (monotonic ms) of `ids`, NaN for those that never arrived. */
  arrivals(ids: IdList): Promise<{ arrivals: Float64Array; summary: ReceiverSummary }>;
  /**
   * Asks about `ids` every `pollMs` until all of them have arrived or `withinMs` has passed, and
   * answers the last reply's arrival times.
   */
  awaitArrivals(ids: IdList, withinMs: number, pollMs?: number): Promise<Float64Array>;
  summary(): Promise<ReceiverSummary>;
  stop(): Promise<void>;
  readonly running: boolean;
};

export async function startReceiver({
  secret,
  verifyEvery,
}: {
  secret: string;
  verifyEvery: number;
}): Promise<Receiver> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/receiver-server.ts'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        WEBHOOK_SECRET: secret,
        VERIFY_EVERY: String(verifyEvery),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Structured clone instead of JSON: the final query carries every acknowledged id.
      serialization: 'advanced',
    },
  );
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  type Pending = { resolve: (message: FromReceiver) => void; reject: (error: Error) => void };
  const waiting = new Map<number, Pending>();
  let seq = 0;
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`the callback receiver exited (${code ?? signal}) before it listened`)),
    );
    child.on('message', (message: FromReceiver) => {
      if (message.type === 'ready') resolve(message.url);
      else waiting.get(message.seq)?.resolve(message);
    });
  });
  child.once('exit', (code, signal) => {
    for (const pending of waiting.values()) {
      pending.reject(new Error(`the callback receiver exited (${code ?? signal})`));
    }
    waiting.clear();
  });

  const ask = <T extends FromReceiver>(message: ToReceiver & { seq: number }) =>
    new Promise<T>((resolve, reject) => {
      if (exited) {
        reject(new Error('the callback receiver is not running'));
        return;
      }
      waiting.set(message.seq, {
        resolve: (reply) => {
          waiting.delete(message.seq);
          resolve(reply as T);
        },
        reject,
      });
      child.send(message);
    });
  const query = (ids: Uint32Array) =>
    ask<Extract<FromReceiver, { type: 'query' }>>({ type: 'query', seq: ++seq, ids });

  return {
    url,
    pid: child.pid as number,
    verifyAll(all) {
      child.send({ type: 'verify', all } satisfies ToReceiver);
    },
    async arrivals(ids) {
      const reply = await query(ids.words());
      return { arrivals: reply.arrivals, summary: reply.summary };
    },
    async awaitArrivals(ids, withinMs, pollMs = 250) {
      const words = ids.words();
      const ends = performance.now() + withinMs;
      for (;;) {
        const { arrivals } = await query(words);
        if (arrivals.every((at) => !Number.isNaN(at)) || performance.now() > ends) return arrivals;
        await sleep(pollMs);
      }
    },
    async summary() {
      const reply = await ask<Extract<FromReceiver, { type: 'summary' }>>({
        type: 'summary',
        seq: ++seq,
      });
      return reply.summary;
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      await exit;
    },
    get running() {
      return !exited;
    },
  };
}
