import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { deliver, RESPONSE_BODY_KEPT } from '../../src/worker/deliver.ts';

/** One attempt against real loopback servers that misbehave in the ways receivers do. */

let server: Server | undefined;
const agent = new Agent({ keepAliveTimeout: 4_000 });
afterEach(async () => {
  const open = server;
  server = undefined;
  if (!open) return;
  open.closeAllConnections();
  await new Promise((resolve) => open.close(resolve));
});

async function listen(handle: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handle);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?x=1`;
}

const attempt = (url: string, timeoutMs = 2_000) =>
  deliver(agent, {
    url,
    body: '{"a":1}',
    headers: { 'content-type': 'application/json' },
    timeoutMs,
    now: Date.parse('2026-01-01T00:00:00Z'),
  });

describe('one delivery attempt', () => {
  it('posts the body to the path and query given, and reports the answer', async () => {
    const seen: string[] = [];
    const url = await listen((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        seen.push(`${request.method} ${request.url} ${body}`);
        response.writeHead(202).end('thanks');
      });
    });
    expect(await attempt(url)).toEqual({ kind: 'delivered', status: 202, responseBody: 'thanks' });
    expect(seen).toEqual(['POST /hook?x=1 {"a":1}']);
  });

  it('tries again at once, inside the attempt, when the connection is reset before an answer', async () => {
    let requests = 0;
    const url = await listen((request, response) => {
      requests++;
      if (requests === 1) request.socket.destroy();
      else response.writeHead(204).end();
    });
    expect(await attempt(url)).toEqual({ kind: 'delivered', status: 204, responseBody: '' });
    expect(requests).toBe(2);
  });

  it('keeps the first 1 KiB of a large answer and does not read all of it', async () => {
    const url = await listen((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 'a');
      // An answer that never ends: an attempt that read all of it would run out of time.
      const write = () => {
        while (!response.destroyed && response.write(chunk)) {}
        if (!response.destroyed) response.once('drain', write);
      };
      write();
    });
    const outcome = await attempt(url);
    expect(outcome).toMatchObject({ kind: 'delivered', status: 200 });
    expect((outcome as { responseBody: string }).responseBody).toBe('a'.repeat(RESPONSE_BODY_KEPT));
  });

  it('reads Retry-After on a 503, and gives up on a receiver that never answers', async () => {
    const url = await listen((request, response) => {
      if (request.url?.includes('busy')) response.writeHead(503, { 'retry-after': '120' }).end();
      // else: never answer
    });
    expect(await attempt(url.replace('hook', 'busy'))).toMatchObject({
      kind: 'http_error',
      status: 503,
      retryAfterMs: 120_000,
    });
    const started = Date.now();
    expect(await attempt(url, 300)).toEqual({
      kind: 'timeout',
      error: 'no answer within CALLBACK_TIMEOUT_MS (300 ms)',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('says why when nothing listens', async () => {
    const url = await listen(() => {});
    const closed = server;
    server = undefined;
    await new Promise((resolve) => closed?.close(resolve));
    const outcome = await attempt(url);
    expect(outcome).toMatchObject({
      kind: 'network',
      error: expect.stringContaining('ECONNREFUSED'),
    });
  });
});
