import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restRoutes } from '../../src/api/rest-door.ts';
import { buildService, type TestService } from '../helpers/app.ts';

let service: TestService;
let document: Record<string, any>;
beforeAll(async () => {
  service = await buildService();
  const response = await service.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  document = response.json();
});
afterAll(async () => {
  await service.close();
});

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(document) as Parameters<typeof validate>[0]);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('describes create and get at their REST paths, served under /api', () => {
    expect(document.servers).toEqual([{ url: '/api' }]);
    const create = document.paths['/charging-session-requests'].post;
    const get = document.paths['/charging-session-requests/{requestId}'].get;
    expect(Object.keys(create.responses).sort()).toEqual([
      '200',
      '400',
      '408',
      '413',
      '415',
      '422',
      '500',
      '503',
    ]);
    expect(Object.keys(get.responses).sort()).toEqual(['200', '400', '404', '500']);
    expect(create.parameters).toContainEqual(
      expect.objectContaining({ in: 'header', name: 'idempotency-key' }),
    );
    expect(create.responses['200'].headers.location).toBeDefined();
    expect(create.security).toBeUndefined();
    const body = create.requestBody.content['application/json'].schema;
    const schema = body.$ref ? document.components.schemas[body.$ref.split('/').pop()] : body;
    expect([...schema.required].sort()).toEqual(['callbackUrl', 'driverId', 'stationId']);
    expect(schema.properties.driverId).toMatchObject({ minLength: 20, maxLength: 80 });
    expect(schema.properties.callbackUrl).toMatchObject({ maxLength: 2048 });
  });

  it('documents the decision reason as an enum, and the authorization reference as optional', () => {
    const decision = document.components.schemas.Decision;
    expect([...decision.required].sort()).toEqual(['decidedAt', 'reason', 'status']);
    expect([...decision.properties.reason.enum].sort()).toEqual(
      [
        'granted',
        'blocked',
        'expired',
        'station_not_granted',
        'unknown_driver',
        'ALLOWED',
        'BLOCKED',
        'EXPIRED',
        'NO_CREDIT',
        'NOT_ALLOWED',
        'unknown_token',
        'authorizer',
        'timeout',
        'bad_answer',
      ].sort(),
    );
    expect(decision.properties.authorizationReference).toMatchObject({ type: 'string' });
    const request = document.components.schemas.ChargingSessionRequest;
    expect(JSON.stringify(request.properties.decision)).toContain('#/components/schemas/Decision');
  });

  it('has a path for every REST route the server serves, and only those', () => {
    const served = restRoutes('')
      .map(({ method, url }) => `${method} ${url.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) =>
        Object.keys(operations as object).map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    expect(documented).toEqual(served);
    expect(served).toContain('PUT /drivers/{driverId}/stations/{stationId}');
  });

  it('describes error bodies as the server sends them, issues with their path', () => {
    const error = document.components.schemas['error.BAD_REQUEST'];
    expect(error.required).toEqual(['message', 'code']);
    expect(error.properties.issues.items).toMatchObject({
      type: 'object',
      required: ['path', 'message'],
      properties: { path: { type: 'array' }, message: { type: 'string' } },
    });
  });

  it('marks admin procedures as needing the bearer token', () => {
    expect(document.components.securitySchemes.adminToken).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(document.paths['/drivers/{driverId}'].put.security).toEqual([{ adminToken: [] }]);
  });
});

describe('GET /docs', () => {
  it('serves an interactive reference page and its assets locally', async () => {
    const page = await service.app.inject({ method: 'GET', url: '/docs' });
    const html =
      page.statusCode === 302
        ? (await service.app.inject({ method: 'GET', url: page.headers.location as string })).body
        : page.body;
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/https?:\/\/(?!localhost)[^"']*\.(js|css)/);
    const script = [...html.matchAll(/src="([^"]+\.js)"/g)].map((m) => m[1])[0];
    expect(script).toBeDefined();
    const asset = await service.app.inject({
      method: 'GET',
      url: new URL(script as string, 'http://x/docs/').pathname,
    });
    expect(asset.statusCode).toBe(200);
    const init = await service.app.inject({
      method: 'GET',
      url: '/docs/static/swagger-initializer.js',
    });
    expect(init.body).toContain("resolveUrl('./json')");
    const json = await service.app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.json().paths).toEqual(document.paths);
  });

  it('gives the page the document in its initializer script, so it renders without a fetch', async () => {
    const page = await service.app.inject({ method: 'GET', url: '/docs/' });
    // Every script is a file: a strict Content-Security-Policy needs no inline script.
    expect(page.body.match(/<script\b[^>]*>[^<]*\S[^<]*<\/script>/g)).toBeNull();
    const init = await service.app.inject({
      method: 'GET',
      url: '/docs/static/swagger-initializer.js',
    });
    const config = /const config = (.*)\n/.exec(init.body)?.[1];
    expect(config).toBeDefined();
    const uiConfig = new Function(`return ${config}`)() as { spec?: unknown };
    expect(uiConfig.spec).toEqual(document);
  });
});
