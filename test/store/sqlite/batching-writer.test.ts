import { describe, expect, it } from 'vitest';
import { createBatchingWriter, type Executor } from '../../../src/store/sqlite/batching-writer.ts';
import { SEND_AT } from '../../../src/store/sqlite/writer.ts';
import type { WriteOp } from '../../../src/store/sqlite/writes.ts';

/** An executor that keeps every batch it is given and answers each write with its arguments. */
function recordingExecutor() {
  const batches: WriteOp[][] = [];
  const executor: Executor = {
    async execute(ops) {
      batches.push(ops);
      return { ok: true, results: ops.map((op) => ({ ok: true, value: op.args })) };
    },
    attach: () => undefined,
    close: async () => {},
  };
  return { batches, executor };
}

const probe = (now: number) => ({ now });
const endOfTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("the main thread's batching writer", () => {
  it('sends a batch as soon as it holds SEND_AT writes, and the rest of the turn at its end', async () => {
    const { batches, executor } = recordingExecutor();
    const writer = createBatchingWriter(executor, { sendAt: SEND_AT });
    const count = 2 * SEND_AT + 3;
    const results = Array.from({ length: count }, (_, at) => writer.run('probe', probe(at)));
    // Within the turn: the full batches have gone out, the last few wait for its end.
    expect(batches.map((batch) => batch.length)).toEqual([SEND_AT, SEND_AT]);
    expect(writer.queued).toBe(3);
    await endOfTurn();
    expect(batches.map((batch) => batch.length)).toEqual([SEND_AT, SEND_AT, 3]);
    expect(batches.flat().map((op) => op.args)).toEqual(
      Array.from({ length: count }, (_, at) => probe(at)),
    );
    // Each write settles with its own result, whichever batch carried it.
    expect(await Promise.all(results)).toEqual(Array.from({ length: count }, (_, at) => probe(at)));
  });

  it('sends nothing more at the end of a turn whose writes all went out in full batches', async () => {
    const { batches, executor } = recordingExecutor();
    const writer = createBatchingWriter(executor, { sendAt: SEND_AT });
    const results = Array.from({ length: SEND_AT }, (_, at) => writer.run('probe', probe(at)));
    expect(batches.map((batch) => batch.length)).toEqual([SEND_AT]);
    await endOfTurn();
    await Promise.all(results);
    expect(batches.map((batch) => batch.length)).toEqual([SEND_AT]);
  });

  it('sends fewer writes than SEND_AT together at the end of their turn', async () => {
    const { batches, executor } = recordingExecutor();
    const writer = createBatchingWriter(executor, { sendAt: SEND_AT });
    const results = [writer.run('probe', probe(1)), writer.run('probe', probe(2))];
    expect(batches).toEqual([]);
    await endOfTurn();
    expect(batches.map((batch) => batch.length)).toEqual([2]);
    expect(await Promise.all(results)).toEqual([probe(1), probe(2)]);
  });
});

describe("a batching writer without sendAt, as the worker thread's port writer is", () => {
  it('sends all the writes of a turn together at its end, however many', async () => {
    const { batches, executor } = recordingExecutor();
    const writer = createBatchingWriter(executor);
    const count = 3 * SEND_AT;
    const results = Array.from({ length: count }, (_, at) => writer.run('probe', probe(at)));
    expect(batches).toEqual([]);
    await endOfTurn();
    expect(batches.map((batch) => batch.length)).toEqual([count]);
    expect(await Promise.all(results)).toEqual(Array.from({ length: count }, (_, at) => probe(at)));
  });
});
