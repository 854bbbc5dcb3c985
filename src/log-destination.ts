import { fstatSync, write, writeSync } from 'node:fs';

/**
 * Where pino writes the process's log lines: a file descriptor (stdout), written once per turn of
 * the event loop with every line that came since the last write. One line per request costs a
 * push onto an array, not a write(2).
 *
 * A pipe, a socket or a terminal is written asynchronously, at most one write in flight, so a
 * slow reader never blocks a request. A regular file is written synchronously, as Node writes
 * `process.stdout` to one: the write goes to the page cache and waits on no reader, and it spares
 * the wake of the libuv thread an asynchronous write needs (on a 2-core VM, at 200 and 3,000
 * requests/s, 4–21 % of the process's CPU per request: bench/README.md).
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

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

export function logDestination(fd: number): LogDestination {
  const toFile = isRegularFile(fd);
  let waiting: string[] = [];
  let writing = false;
  let closed = false;
  /** What a full pipe left unwritten, until its retry: flushSync writes it first. */
  let left: { data: Buffer; offset: number } | undefined;

  /** The reader is gone (or the file refuses writes): nothing more can be logged. */
  function end(): void {
    closed = true;
    writing = false;
    waiting = [];
  }

  function writeOut(data: Buffer, offset: number): void {
    left = undefined;
    write(fd, data, offset, data.length - offset, null, (error, written) => {
      if (error) {
        if (isBusy(error.code)) {
          left = { data, offset };
          setTimeout(() => left && writeOut(left.data, left.offset), RETRY_MS).unref();
          return;
        }
        end();
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
    if (toFile) writeNow(data);
    else {
      writing = true;
      writeOut(data, 0);
    }
  }

  /** A file's write; what it could not take now (EAGAIN, EINTR) goes on asynchronously. */
  function writeNow(data: Buffer): void {
    let offset = 0;
    try {
      while (offset < data.length) offset += writeSync(fd, data, offset);
    } catch (error) {
      if (isBusy((error as NodeJS.ErrnoException).code)) {
        writing = true;
        writeOut(data, offset);
        return;
      }
      end();
    }
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
