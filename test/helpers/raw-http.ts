import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** A raw TCP client for what `fetch` cannot do: stall mid-request, hold connections open. */

export type RawConnection = {
  socket: Socket;
  /** Everything received so far. */
  received: () => string;
  /** Resolves when the server has closed the connection (or it was reset). */
  closed: Promise<void>;
  /** Resolves with the first complete response (status line, headers and a body of Content-Length). */
  response: () => Promise<RawResponse>;
};

export type RawResponse = { status: number; headers: Record<string, string>; body: string };

export async function openConnection(port: number): Promise<RawConnection> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  const waiting = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    for (const check of waiting) check();
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => {
    socket.on('close', () => {
      resolve();
      for (const check of waiting) check();
    });
  });
  await once(socket, 'connect');
  return {
    socket,
    received: () => text,
    closed,
    response: () =>
      new Promise((resolve, reject) => {
        const check = () => {
          const parsed = parseResponse(text);
          if (parsed) {
            waiting.delete(check);
            resolve(parsed);
          } else if (socket.destroyed) {
            waiting.delete(check);
            reject(new Error(`connection closed without a complete response: ${text}`));
          }
        };
        waiting.add(check);
        check();
      }),
  };
}

function parseResponse(text: string): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = text.slice(end + 4);
  if (body.length < length) return undefined;
  return { status: Number(statusLine.split(' ')[1]), headers, body: body.slice(0, length) };
}

/** Fails with `what` unless `promise` settles within `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
