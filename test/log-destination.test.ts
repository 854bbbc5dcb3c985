import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { logDestination } from '../src/log-destination.ts';
import { tempDir } from './helpers/process.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));
const lines = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `{"line":${from + i},"pad":"${'x'.repeat(80)}"}\n`);

describe('the log destination', () => {
  it('writes every line, in order, across many turns', async () => {
    const path = `${tempDir()}/log`;
    const fd = openSync(path, 'w');
    const destination = logDestination(fd);
    const all: string[] = [];
    for (let t = 0; t < 50; t++) {
      for (const line of lines(40, t * 40)) {
        destination.write(line);
        all.push(line);
      }
      await turn();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe(all.join(''));
  });

  it('writes a regular file synchronously, once per turn: no write is left pending', () => {
    // In a process of its own, so that nothing else there has a file operation in flight.
    const path = `${tempDir()}/log`;
    const script = `
      import { openSync, readFileSync } from 'node:fs';
      import { logDestination } from ${JSON.stringify(new URL('../src/log-destination.ts', import.meta.url).href)};
      const destination = logDestination(openSync(${JSON.stringify(path)}, 'w'));
      for (let i = 0; i < 40; i++) destination.write('{"line":' + i + '}\\n');
      const before = readFileSync(${JSON.stringify(path)}, 'utf8');
      // The destination's setImmediate runs first in the same check phase.
      setImmediate(() => {
        console.log(JSON.stringify({
          before,
          after: readFileSync(${JSON.stringify(path)}, 'utf8'),
          // An asynchronous write would still be an FSReqCallback until a later poll phase.
          resources: process.getActiveResourcesInfo(),
        }));
      });`;
    const args = ['--import', 'tsx', '--input-type=module', '-e', script];
    const output = execFileSync(process.execPath, args, { encoding: 'utf8' });
    const { before, after, resources } = JSON.parse(output) as {
      before: string;
      after: string;
      resources: string[];
    };
    expect(before).toBe('');
    expect(resources).not.toContain('FSReqCallback');
    expect(after).toBe(Array.from({ length: 40 }, (_, i) => `{"line":${i}}\n`).join(''));
  });

  it('writes what is still waiting synchronously on flushSync', () => {
    const path = `${tempDir()}/log`;
    const fd = openSync(path, 'w');
    const destination = logDestination(fd);
    const written = lines(3);
    for (const line of written) destination.write(line);
    destination.flushSync();
    closeSync(fd);
    expect(readFileSync(path, 'utf8')).toBe(written.join(''));
  });

  it('waits out a full pipe and loses nothing; stops quietly once the reader is gone', async () => {
    const fifo = `${tempDir()}/fifo`;
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const destination = logDestination(writer);
    // About 1 MB, far more than the pipe holds: writes meet EAGAIN until the reader catches up.
    const written = lines(10_000);
    for (const line of written) destination.write(line);
    const expected = Buffer.byteLength(written.join(''));
    const chunks: Buffer[] = [];
    let got = 0;
    const buffer = Buffer.alloc(64 * 1024);
    for (let tries = 0; got < expected && tries < 2_000; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      try {
        const n = readSync(reader, buffer);
        chunks.push(Buffer.from(buffer.subarray(0, n)));
        got += n;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      }
    }
    expect(Buffer.concat(chunks).toString()).toBe(written.join(''));
    closeSync(reader);
    destination.write(lines(1)[0] as string);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // EPIPE was met: nothing more is written and nothing throws.
    expect(() => destination.write('after\n')).not.toThrow();
    closeSync(writer);
  });
});
