import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { ErrorBody } from './errors.ts';

/**
 * The operator console at `/console`: the page Vite builds from `src/console/` into
 * `dist/console/` (at `npm ci`, through the `prepare` script). It holds no data of its own and
 * talks to the tRPC door with the admin token, which stays in the browser tab.
 */

export const CONSOLE_PATH = '/console';
export const DEFAULT_CONSOLE_ROOT = fileURLToPath(new URL('../../dist/console', import.meta.url));

/**
 * No inline script or style and no other origin: everything the page runs is one bundled
 * script from here, so an injected string cannot become code, and no other site may frame it.
 */
export const CONSOLE_HEADERS = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; '),
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
} as const;

const NOT_BUILT: ErrorBody = {
  code: 'SERVICE_UNAVAILABLE',
  message: 'the operator console is not built: run npm run build:console (npm ci does it)',
};

export async function registerConsole(
  app: FastifyInstance,
  root: string = DEFAULT_CONSOLE_ROOT,
): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      reply.headers(CONSOLE_HEADERS);
      return payload;
    });

    const indexFile = join(root, 'index.html');
    if (!existsSync(indexFile)) {
      const unavailable = { logLevel: 'warn' as const };
      for (const url of [CONSOLE_PATH, `${CONSOLE_PATH}/`, `${CONSOLE_PATH}/*`]) {
        scope.get(url, unavailable, (_request, reply) => reply.code(503).send(NOT_BUILT));
      }
      return;
    }

    const page = readFileSync(indexFile, 'utf8');
    const sendPage = { logLevel: 'warn' as const };
    for (const url of [CONSOLE_PATH, `${CONSOLE_PATH}/`]) {
      scope.get(url, sendPage, (_request, reply) =>
        reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page),
      );
    }
    // Asset names carry a hash of their content, so a browser may keep them for good.
    await scope.register(fastifyStatic, {
      root: join(root, 'assets'),
      prefix: `${CONSOLE_PATH}/assets/`,
      index: false,
      maxAge: '365d',
      immutable: true,
      logLevel: 'warn',
    });
  });
}
