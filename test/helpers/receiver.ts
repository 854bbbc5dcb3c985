import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real HTTP server on loopback that records every request and answers as told. */

export type Received = {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
};
export type Respond = (received: Received, index: number, response: ServerResponse) => unknown;

export type Receiver = {
  url: string;
  port: number;
  received: Received[];
  /** Changes how the next requests are answered. */
  respondWith(respond: Respond): void;
  close(): Promise<void>;
};

export const answer =
  (status: number, headers: Record<string, string> = {}, body = '') =>
  (_received: Received, _index: number, response: ServerResponse) => {
    response.writeHead(status, headers).end(body);
  };

export async function startReceiver(
  respond: Respond = answer(200),
  port = 0,
  host = '127.0.0.1',
): Promise<Receiver> {
  const received: Received[] = [];
  let current = respond;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry: Received = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      received.push(entry);
      void current(entry, received.length - 1, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/callbacks`,
    port: address.port,
    received,
    respondWith(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A receiver that answers 204 after `delayMs`, counting the most requests it held at once. */
export async function slowReceiver(delayMs: number): Promise<Receiver & { peak: () => number }> {
  let inFlight = 0;
  let peak = 0;
  const receiver = await startReceiver((_received, _index, response) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    setTimeout(() => {
      inFlight--;
      response.writeHead(204).end();
    }, delayMs);
  });
  return { ...receiver, peak: () => peak };
}
