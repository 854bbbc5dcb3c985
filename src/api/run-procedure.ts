import { type AnyRouter, getTRPCErrorFromUnknown, TRPCError } from '@trpc/server';

/**
 * Calling a procedure of a router by its path, as tRPC's caller does: the procedure's own
 * middleware chain — `.use()` middlewares, the input parser, the output parser, the resolver,
 * each one the function tRPC built — in its order, with the options and `next()` that tRPC's
 * middleware contract defines, and errors as the `TRPCError` tRPC would throw.
 *
 * tRPC's own runner copies the whole options object with a generic object-spread helper at every
 * level of the chain, and again in every `next()`: about 10 µs per level on a 2-core VM, 45 µs for
 * a create (four levels), which is as much as Fastify takes to parse, validate and answer the
 * request. Here each level is one object literal of a fixed shape. Semantics are tRPC 11's
 * (`callRecursive` and `createProcedureCaller`); test/api/run-procedure.test.ts holds them equal
 * to `callTRPCProcedure` for every procedure of the router and for the parts of the contract the
 * router does not use (context and input passed to `next()`), so an upgrade that changes them
 * fails there.
 */

export type ProcedureType = 'query' | 'mutation' | 'subscription';

type Result = { ok: true; data: unknown } | { ok: false; error: TRPCError };
type NextOptions = { ctx?: object; input?: unknown; getRawInput?: () => Promise<unknown> };

type MiddlewareOptions = {
  ctx: object;
  type: ProcedureType;
  path: string;
  input: unknown;
  getRawInput: () => Promise<unknown>;
  meta: unknown;
  signal: AbortSignal | undefined;
  batchIndex: number;
  next(options?: NextOptions): Promise<Result>;
};

type Middleware = (options: MiddlewareOptions) => Promise<Result>;
type ProcedureDef = { type: ProcedureType; meta: unknown; middlewares: Middleware[] };

/** One call's state as it passes down the chain. */
type Call = {
  def: ProcedureDef;
  path: string;
  signal: AbortSignal | undefined;
  ctx: object;
  input: unknown;
  getRawInput: () => Promise<unknown>;
};

async function runFrom(index: number, call: Call): Promise<Result> {
  try {
    const middleware = call.def.middlewares[index] as Middleware;
    return await middleware({
      ctx: call.ctx,
      type: call.def.type,
      path: call.path,
      input: call.input,
      getRawInput: call.getRawInput,
      meta: call.def.meta,
      signal: call.signal,
      batchIndex: 0,
      next(options) {
        return runFrom(index + 1, {
          def: call.def,
          path: call.path,
          signal: call.signal,
          ctx: options?.ctx ? { ...call.ctx, ...options.ctx } : call.ctx,
          input: options && 'input' in options ? options.input : call.input,
          getRawInput: options?.getRawInput ?? call.getRawInput,
        });
      },
    });
  } catch (cause) {
    return { ok: false, error: getTRPCErrorFromUnknown(cause) };
  }
}

export type RunProcedure = (
  path: string,
  type: ProcedureType,
  ctx: object,
  getRawInput: () => Promise<unknown>,
  signal?: AbortSignal,
) => Promise<unknown>;

/** A runner for the procedures of `router` (which has no lazy sub-routers). */
export function procedureRunner(router: AnyRouter): RunProcedure {
  const procedures = router._def.procedures as Record<string, { _def: ProcedureDef } | undefined>;
  return async (path, type, ctx, getRawInput, signal) => {
    const def = Object.hasOwn(procedures, path) ? procedures[path]?._def : undefined;
    if (def?.type !== type) {
      throw new TRPCError({
        code: 'NOT_FOUND',
        message: `No "${type}"-procedure on path "${path}"`,
      });
    }
    const result = await runFrom(0, { def, path, signal, ctx, input: undefined, getRawInput });
    if (!result) {
      throw new TRPCError({
        code: 'INTERNAL_SERVER_ERROR',
        message: 'No result from middlewares - did you forget to `return next()`?',
      });
    }
    if (!result.ok) throw result.error;
    return result.data;
  };
}
