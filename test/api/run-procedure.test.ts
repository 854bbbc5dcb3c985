import { callTRPCProcedure, initTRPC, TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Context } from '../../src/api/context.ts';
import { appRouter } from '../../src/api/routers/app-router.ts';
import { type ProcedureType, procedureRunner } from '../../src/api/run-procedure.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { buildService, type TestService, validRequest } from '../helpers/app.ts';

/**
 * The procedure runner against tRPC's own `callTRPCProcedure`: the same data, or the same error
 * (code, message, cause), for every procedure of the router and for the parts of tRPC's
 * middleware contract the router does not use itself.
 */

type Outcome =
  | { ok: true; data: unknown }
  | { ok: false; name: string; code: string; message: string; cause?: string; issues?: unknown };

async function outcomeOf(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, data: await call() };
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    const cause = error.cause as { name?: string; issues?: unknown } | undefined;
    return {
      ok: false,
      name: error.name,
      code: error.code,
      message: error.message,
      ...(cause ? { cause: cause.name } : {}),
      ...(cause?.issues ? { issues: cause.issues } : {}),
    };
  }
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g;
/** Ids and times differ between two calls that each create a row. */
const normalized = (outcome: Outcome) =>
  JSON.parse(JSON.stringify(outcome).replace(UUID, '<uuid>').replace(ISO, '<time>'));

describe('the runner, on a router of its own', () => {
  const t = initTRPC.context<{ user?: string; extra?: number }>().meta<{ tag: string }>().create();
  const seen: unknown[] = [];
  const router = t.router({
    ctxAndInput: t.procedure
      .meta({ tag: 'm' })
      .use(({ next }) => next({ ctx: { user: 'ann' } }))
      .use(({ ctx, meta, path, type, next }) => {
        seen.push({ ctx, meta, path, type });
        return next({ ctx: { extra: 1 } });
      })
      .input(z.object({ n: z.number() }))
      .use(({ input, next }) => next({ input: { n: (input as { n: number }).n + 1 } }))
      .output(z.object({ n: z.number(), user: z.string(), extra: z.number() }))
      .mutation(({ ctx, input }) => ({
        n: input.n,
        user: ctx.user ?? '',
        extra: ctx.extra ?? 0,
      })),
    twoInputs: t.procedure
      .input(z.object({ a: z.string() }))
      .input(z.object({ b: z.number() }))
      .query(({ input }) => input),
    asyncInput: t.procedure
      .input(z.object({ n: z.number() }).refine(async (v) => v.n > 0, 'must be positive'))
      .query(({ input }) => input.n),
    scalarInput: t.procedure.input(z.string()).query(({ input }) => input.length),
    rawInput: t.procedure
      .use(({ next }) => next({ getRawInput: async () => ({ s: 'replaced' }) }))
      .input(z.object({ s: z.string() }))
      .query(({ input }) => input.s),
    throws: t.procedure
      .use(() => {
        throw new Error('plain');
      })
      .query(() => 'never'),
    refusesOutput: t.procedure.output(z.string()).query(() => 42 as unknown as string),
    forgetsNext: t.procedure
      .use((async () => undefined) as unknown as Parameters<typeof t.procedure.use>[0])
      .query(() => 'never'),
    mapsErrors: t.procedure
      .use(async ({ next }) => {
        const result = await next();
        if (!result.ok) throw new TRPCError({ code: 'CONFLICT', cause: result.error });
        return result;
      })
      .query(() => {
        throw new Error('inner');
      }),
  });
  const run = procedureRunner(router);
  const both = async (path: string, type: ProcedureType, input: unknown, ctx = {}) => {
    const getRawInput = async () => input;
    const ours = await outcomeOf(() => run(path, type, ctx, getRawInput));
    const theirs = await outcomeOf(() =>
      callTRPCProcedure({ router, path, type, ctx, getRawInput, signal: undefined, batchIndex: 0 }),
    );
    return { ours, theirs };
  };

  it.each([
    ['ctxAndInput', 'mutation', { n: 1 }],
    ['ctxAndInput', 'mutation', { n: 'one' }],
    ['ctxAndInput', 'query', { n: 1 }],
    ['rawInput', 'query', { s: 'given' }],
    ['twoInputs', 'query', { a: 'x', b: 1, c: true }],
    ['twoInputs', 'query', { a: 'x' }],
    ['asyncInput', 'query', { n: 1 }],
    ['asyncInput', 'query', { n: -1 }],
    ['scalarInput', 'query', 'abc'],
    ['scalarInput', 'query', 5],
    ['throws', 'query', undefined],
    ['refusesOutput', 'query', undefined],
    ['forgetsNext', 'query', undefined],
    ['mapsErrors', 'query', undefined],
    ['nowhere', 'query', undefined],
    ['toString', 'query', undefined],
  ] as const)('%s as a %s gives what tRPC gives', async (path, type, input) => {
    const { ours, theirs } = await both(path, type, input);
    expect(ours).toEqual(theirs);
  });

  it('merges the context passed to next() and passes input, meta, path and type down', async () => {
    seen.length = 0;
    const { ours } = await both('ctxAndInput', 'mutation', { n: 1 }, { extra: 0 });
    expect(ours).toEqual({ ok: true, data: { n: 2, user: 'ann', extra: 1 } });
    expect(seen).toEqual([
      { ctx: { extra: 0, user: 'ann' }, meta: { tag: 'm' }, path: 'ctxAndInput', type: 'mutation' },
      { ctx: { extra: 0, user: 'ann' }, meta: { tag: 'm' }, path: 'ctxAndInput', type: 'mutation' },
    ]);
  });
});

describe('the runner, on every procedure of the router', () => {
  let service: TestService;
  beforeAll(async () => {
    // A fixed clock: the two calls of a case see the same times.
    const now = Date.parse('2026-06-01T12:00:00Z');
    service = await buildService({
      env: { ADMIN_TOKEN: 'admin-token-0123456789' },
      now: () => now,
    });
    await service.services.drivers.upsert('DRV-0001-ab.cd_ef~0123', { status: 'active' });
  });
  afterAll(async () => {
    await service.close();
  });

  const run = procedureRunner(appRouter);
  const context = (headers: Record<string, string>, written: Record<string, string>): Context => ({
    services: service.services,
    authorization: headers.authorization,
    idempotencyKey: headers['idempotency-key'],
    setHeader: (name, value) => {
      written[name] = value;
    },
  });
  const admin = { authorization: 'Bearer admin-token-0123456789' };
  const stationId = '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50';
  const driverId = 'DRV-0001-ab.cd_ef~0123';
  const missing = '0190a5b2-0000-7000-8000-000000000000';

  const cases: [string, ProcedureType, unknown, Record<string, string>][] = [
    ['chargingSessionRequests.create', 'mutation', validRequest(), {}],
    ['chargingSessionRequests.create', 'mutation', validRequest({ driverId: 'short' }), {}],
    ['chargingSessionRequests.create', 'mutation', 'not an object', {}],
    ['chargingSessionRequests.create', 'mutation', validRequest(), { 'idempotency-key': '\u0001' }],
    ['chargingSessionRequests.create', 'query', validRequest(), {}],
    ['chargingSessionRequests.get', 'query', { requestId: missing }, {}],
    ['chargingSessionRequests.get', 'query', { requestId: 'nope' }, {}],
    ['chargingSessionRequests.list', 'query', { limit: '2' }, admin],
    ['chargingSessionRequests.list', 'query', {}, {}],
    ['chargingSessionRequests.list', 'query', { cursor: 'garbage' }, admin],
    ['chargingSessionRequests.attempts', 'query', { requestId: missing }, admin],
    ['chargingSessionRequests.redeliver', 'mutation', { requestId: missing }, admin],
    ['drivers.upsert', 'mutation', { driverId, status: 'active', allStations: true }, admin],
    ['drivers.upsert', 'mutation', { driverId, status: 'sleeping' }, admin],
    ['drivers.get', 'query', { driverId }, admin],
    ['drivers.get', 'query', { driverId: 'DRV-9999-unknown-driver-x' }, admin],
    ['drivers.grantStation', 'mutation', { driverId, stationId }, admin],
    ['drivers.revokeStation', 'mutation', { driverId, stationId }, { authorization: 'Bearer x' }],
    ['drivers.remove', 'mutation', { driverId: 'DRV-9999-unknown-driver-x' }, admin],
    ['callbacks.stats', 'query', {}, admin],
    ['callbacks.recover', 'mutation', { since: '2026-01-01T00:00:00Z' }, admin],
    ['callbacks.recover', 'mutation', { since: 'yesterday' }, admin],
  ];

  it('covers every procedure', () => {
    expect(new Set(cases.map(([path]) => path))).toEqual(
      new Set(Object.keys(appRouter._def.procedures)),
    );
  });

  it.each(cases)(
    '%s (%s) %j gives what tRPC gives, headers included',
    async (path, type, input, headers) => {
      const getRawInput = async () => input;
      const ourHeaders: Record<string, string> = {};
      const theirHeaders: Record<string, string> = {};
      const ours = await outcomeOf(() =>
        run(path, type, context(headers, ourHeaders), getRawInput),
      );
      const theirs = await outcomeOf(() =>
        callTRPCProcedure({
          router: appRouter,
          path,
          type,
          ctx: context(headers, theirHeaders),
          getRawInput,
          signal: undefined,
          batchIndex: 0,
        }),
      );
      expect(normalized(ours)).toEqual(normalized(theirs));
      expect(normalized({ ok: true, data: ourHeaders })).toEqual(
        normalized({ ok: true, data: theirHeaders }),
      );
    },
  );

  it('maps a database that cannot take work to SERVICE_UNAVAILABLE with Retry-After, as tRPC does', async () => {
    const unavailable = {
      ...service.services,
      requests: {
        ...service.services.requests,
        create: async () => {
          throw new StoreUnavailableError(new Error('disk full'));
        },
      },
    };
    const written: Record<string, string> = {};
    const ctx: Context = { ...context({}, written), services: unavailable };
    const ours = await outcomeOf(() =>
      run('chargingSessionRequests.create', 'mutation', ctx, async () => validRequest()),
    );
    expect(ours).toMatchObject({ ok: false, code: 'SERVICE_UNAVAILABLE' });
    expect(written['retry-after']).toMatch(/^\d+$/);
  });
});
