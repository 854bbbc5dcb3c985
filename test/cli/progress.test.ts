import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, rowsPerSecond } from '../../src/cli/progress.ts';

function output(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 120 });
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

describe('progress without a terminal', () => {
  it('prints a line at every 10 % step, not at every update', () => {
    const out = output(false);
    let now = 0;
    const progress = createProgress({
      stream: out.stream,
      label: 'importing',
      total: 1000,
      now: () => now,
    });
    for (let done = 10; done <= 1000; done += 10) {
      now += 10;
      progress.update(done, done);
    }
    progress.stop();
    const lines = out.text().trimEnd().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe('importing: 10% (100 rows, 1000 rows/s)');
    expect(lines[9]).toBe('importing: 100% (1000 rows, 1000 rows/s)');
  });

  it('prints at least every interval while a step takes long', () => {
    const out = output(false);
    let now = 0;
    const progress = createProgress({
      stream: out.stream,
      label: 'validating',
      total: 1_000_000,
      now: () => now,
      intervalMs: 5_000,
    });
    for (let i = 1; i <= 12; i++) {
      now = i * 1_000;
      progress.update(i * 1_000, i * 1_000);
    }
    expect(out.text()).toBe(
      'validating: 0% (5000 rows, 1000 rows/s)\nvalidating: 1% (10000 rows, 1000 rows/s)\n',
    );
  });

  it('treats an empty total as done', () => {
    const out = output(false);
    createProgress({ stream: out.stream, label: 'importing', total: 0, now: () => 1 }).update(0, 0);
    expect(out.text()).toBe('importing: 100% (0 rows, 0 rows/s)\n');
  });
});

describe('progress on a terminal', () => {
  it('draws a bar with the rate and an ETA', () => {
    const out = output(true);
    let now = 0;
    const progress = createProgress({
      stream: out.stream,
      label: 'importing',
      total: 100,
      now: () => now,
    });
    now = 2_000;
    progress.update(50, 50);
    progress.stop();
    expect(out.text()).toMatch(/importing \[[█░]{30}\] 50% \| 50 rows \| 25 rows\/s \| ETA /);
  });
});

it.each([
  [1000, 1000, 1000],
  [1500, 500, 3000],
  [0, 0, 0],
  [10, 0, 10000],
])('%i rows in %i ms is %i rows/s', (rows, ms, rate) => {
  expect(rowsPerSecond(rows, ms)).toBe(rate);
});
