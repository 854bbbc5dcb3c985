import { generateOpenApiDocument, type OpenAPIObject } from 'trpc-to-openapi';
import { z } from 'zod';
import { errorIssueSchema } from './errors.ts';
import { appRouter } from './routers/app-router.ts';

/** The OpenAPI 3.1 document of the REST door, generated from the router. */
export function openApiDocument(version: string): OpenAPIObject {
  const document = generateOpenApiDocument(appRouter, {
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
  describeIssues(document);
  return document;
}

/**
 * The generator describes each issue of an error body as `{ message }` only; ours also carry the
 * `path` of the offending field. The error schemas are completed from the one issue schema.
 */
function describeIssues(document: OpenAPIObject): void {
  const { $schema: _, ...issue } = z.toJSONSchema(errorIssueSchema) as Record<string, unknown>;
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    const issues = (schema as { properties?: { issues?: { items?: unknown } } }).properties?.issues;
    if (name.startsWith('error.') && issues) issues.items = issue;
  }
}
