import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import type { OpenAPIObject } from 'trpc-to-openapi';

/**
 * `GET /openapi.json` and the interactive reference at `/docs` (Swagger UI, whose assets are
 * served from the package, no CDN). The page gets the document inside its initializer script
 * (a file, not an inline script) rather than fetching it after load, so it renders the API at
 * once instead of a loading spinner; `/docs/json` serves the same document too.
 */
export async function registerDocs(app: FastifyInstance, document: OpenAPIObject): Promise<void> {
  const json = JSON.stringify(document);
  app.get('/openapi.json', { logLevel: 'warn' }, (_request, reply) =>
    reply.type('application/json').send(json),
  );
  await app.register(fastifySwagger, {
    mode: 'static',
    specification: { document: document as never },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, tryItOutEnabled: true, spec: document },
    logLevel: 'warn',
  });
}
