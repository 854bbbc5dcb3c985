import { generateOpenApiDocument } from 'trpc-to-openapi';
import { appRouter } from './routers/app-router.ts';

/** The OpenAPI 3.1 document of the REST door, generated from the router. */
export function openApiDocument(version: string) {
  return generateOpenApiDocument(appRouter, {
    title: 'chargegate',
    description:
      'Charging session requests in, signed decisions out. Every procedure is also served over tRPC at /trpc.',
    version,
    baseUrl: '/api',
    docsUrl: '/docs',
    securitySchemes: {
      adminToken: {
        type: 'http',
        scheme: 'bearer',
        description: 'The value of ADMIN_TOKEN, for the admin procedures.',
      },
    },
  });
}
