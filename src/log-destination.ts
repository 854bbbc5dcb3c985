import { write, writeSync } from 'node:fs';

/**
 * Where pino writes the process's log lines: a file descriptor (stdout), written asynchronously,
 * at most one write in flight, each with every line that came since the last. A log line never
 * blocks a request, and one line per request costs a push onto an array, not a write(2).
 *
 * pino's own asynchronous destination (sonic-boom) appends each line to one growing string and
 * measures that string's byte length on every line, which flattens it: under load, with a write
 * in flight, that copies a few KB per request line. Lines kept as an array are joined once per
 * write. A full pipe (EAGAIN) is waited out; a closed one (EPIPE) ends logging, as it does for
 * sonic-boom.
 */
export type LogDestination = {
  write(line: string): void;
  /** Writes what is waiting, synchronously: before the process exits. */
  flushSync(): void;
};

const RETRY_MS = 5;
const isBusy = (code: string | undefined) => code === 'EAGAIN' || code === 'EINTR';

export function logDestination(fd: number): LogDestination {
  let waiting: string[] = [];
  let writing = false;
  let closed = false;
  /** What a full pipe left unwritten, until its retry: flushSync writes it first. */
  let left: { data: Buffer; offset: number } | undefined;

  function writeOut(data: Buffer, offset: number): void {
    left = undefined;
    write(fd, data, offset, data.length - offset, null, (error, written) => {
      if (error) {
        if (isBusy(error.code)) {
          left = { data, offset };
          setTimeout(() => left && writeOut(left.data, left.offset), RETRY_MS).unref();
          return;
        }
        // The reader is gone: nothing more can be logged.
        closed = true;
        writing = false;
        waiting = [];
        return;
      }
      if (offset + written < data.length) {
        writeOut(data, offset + written);
        return;
      }
      writing = false;
      flush();
    });
  }

  function flush(): void {
    if (writing || closed || waiting.length === 0) return;
    const data = Buffer.from(waiting.join(''));
    waiting = [];
    writing = true;
    writeOut(data, 0);
  }

  return {
    write(line) {
      if (closed) return;
      waiting.push(line);
      // The first line since the last write: write the turn's lines once the turn is over.
      if (waiting.length === 1 && !writing) setImmediate(flush);
    },
    flushSync() {
      if (closed) return;
      const parts = left ? [left.data.subarray(left.offset)] : [];
      left = undefined;
      if (waiting.length > 0) parts.push(Buffer.from(waiting.join('')));
      waiting = [];
      for (const data of parts) {
        let offset = 0;
        while (offset < data.length) {
          try {
            offset += writeSync(fd, data, offset);
          } catch (error) {
            if (!isBusy((error as NodeJS.ErrnoException).code)) return;
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_MS);
          }
        }
      }
    },
  };
}
