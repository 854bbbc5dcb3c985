import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

    const quiet = { logLevel: 'warn' as const };
    const notBuilt = (_request: FastifyRequest, reply: FastifyReply) =>
      reply.code(503).send(NOT_BUILT);

    // Read on every visit (it is small and rarely asked for), so a rebuild shows on reload.
    const indexFile = join(root, 'index.html');
    const sendPage = async (request: FastifyRequest, reply: FastifyReply) => {
      const page = await readFile(indexFile, 'utf8').catch(() => undefined);
      if (page === undefined) return notBuilt(request, reply);
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page);
    };
    scope.get(CONSOLE_PATH, quiet, sendPage);
    scope.get(`${CONSOLE_PATH}/`, quiet, sendPage);

    const assets = join(root, 'assets');
    if (!existsSync(assets)) {
      scope.get(`${CONSOLE_PATH}/*`, quiet, notBuilt);
      return;
    }
    // Asset names carry a hash of their content, so a browser may keep them for good.
    await scope.register(fastifyStatic, {
      root: assets,
      prefix: `${CONSOLE_PATH}/assets/`,
      index: false,
      maxAge: '365d',
      immutable: true,
      logLevel: 'warn',
    });
  });
}
