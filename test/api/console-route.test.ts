import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSOLE_HEADERS, registerConsole } from '../../src/api/console-route.ts';
import { tempDir } from '../helpers/process.ts';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function serve(root: string): Promise<FastifyInstance> {
  app = Fastify();
  await registerConsole(app, root);
  return app;
}

function builtConsole(): string {
  const root = tempDir('chargegate-console-');
  mkdirSync(join(root, 'assets'));
  writeFileSync(
    join(root, 'index.html'),
    '<!doctype html><script type="module" src="/console/assets/index-abc.js"></script>',
  );
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  return root;
}

const expectSecurityHeaders = (headers: Record<string, unknown>) => {
  for (const [name, value] of Object.entries(CONSOLE_HEADERS)) expect(headers[name]).toBe(value);
};

describe('GET /console', () => {
  it('serves the page and its assets with the security headers', async () => {
    const root = builtConsole();
    const server = await serve(root);
    for (const url of ['/console', '/console/']) {
      const page = await server.inject({ method: 'GET', url });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('/console/assets/index-abc.js');
      expectSecurityHeaders(page.headers);
    }
    const csp = CONSOLE_HEADERS['content-security-policy'];
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');

    const script = await server.inject({ method: 'GET', url: '/console/assets/index-abc.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('javascript');
    expect(script.headers['cache-control']).toContain('immutable');
    expectSecurityHeaders(script.headers);

    const missing = await server.inject({ method: 'GET', url: '/console/assets/nope.js' });
    expect(missing.statusCode).toBe(404);

    // A rebuild shows without a restart.
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>rebuilt</title>');
    expect((await server.inject({ method: 'GET', url: '/console' })).body).toContain('rebuilt');
  });

  it('answers 503 in the error shape, naming the build command, when the page is not built', async () => {
    const server = await serve(join(tempDir('chargegate-console-'), 'missing'));
    for (const url of ['/console', '/console/', '/console/assets/index-abc.js']) {
      const response = await server.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({
        code: 'SERVICE_UNAVAILABLE',
        message: expect.stringContaining('npm run build:console'),
      });
      expectSecurityHeaders(response.headers);
    }
  });
});
