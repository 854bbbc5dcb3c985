import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An eMSP's OCPI 2.2.1 Tokens endpoint on loopback: `POST /ocpi/emsp/2.2.1/tokens/{uid}/authorize`.
 * Every request is recorded; those to another path get a plain 404, those with another
 * credentials token a 401. The test says how the rest are answered.
 */

export type EmspRequest = {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** The token uid from the path, decoded; undefined when the path is not an authorize call. */
  uid: string | undefined;
};

/** An HTTP answer, or `hang` to never answer. */
export type EmspAnswer = { status: number; body: unknown } | 'hang';
export type EmspRespond = (request: EmspRequest, index: number) => EmspAnswer;

export type FakeEmsp = {
  /** The Tokens endpoint, as AUTHORIZER_URL. */
  tokensUrl: string;
  received: EmspRequest[];
  respondWith(respond: EmspRespond): void;
  close(): Promise<void>;
};

const TOKENS_PATH = '/ocpi/emsp/2.2.1/tokens';
const AUTHORIZE = /^\/ocpi\/emsp\/2\.2\.1\/tokens\/([^/]+)\/authorize$/;

export const ocpiTimestamp = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** An OCPI response envelope. */
export const envelope = (statusCode: number, data?: unknown, message?: string) => ({
  ...(data !== undefined && { data }),
  status_code: statusCode,
  ...(message !== undefined && { status_message: message }),
  timestamp: ocpiTimestamp(),
});

/** A Token object as an eMSP sends it back in AuthorizationInfo. */
export const tokenObject = (uid: string, type = 'RFID') => ({
  country_code: 'NL',
  party_id: 'EXA',
  uid,
  type,
  contract_id: 'NL-EXA-C12345678-X',
  issuer: 'Example eMSP',
  valid: true,
  whitelist: 'ALLOWED',
  last_updated: '2026-01-01T00:00:00Z',
});

export async function startFakeEmsp(
  credentialsToken: string,
  respond: EmspRespond,
): Promise<FakeEmsp> {
  const received: EmspRequest[] = [];
  let current = respond;
  const expectedAuthorization = `Token ${Buffer.from(credentialsToken, 'utf8').toString('base64')}`;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://emsp.invalid');
      const match = AUTHORIZE.exec(url.pathname);
      const entry: EmspRequest = {
        method: request.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        uid: match?.[1] === undefined ? undefined : decodeURIComponent(match[1]),
      };
      received.push(entry);
      const send = (status: number, body: unknown) =>
        response
          .writeHead(status, { 'content-type': 'application/json' })
          .end(typeof body === 'string' ? body : JSON.stringify(body));
      if (request.method !== 'POST' || entry.uid === undefined) {
        send(404, 'Not Found');
        return;
      }
      if (request.headers.authorization !== expectedAuthorization) {
        send(401, envelope(2000, undefined, 'Unauthorized'));
        return;
      }
      const answer = current(entry, received.length - 1);
      if (answer !== 'hang') send(answer.status, answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    tokensUrl: `http://127.0.0.1:${port}${TOKENS_PATH}`,
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
