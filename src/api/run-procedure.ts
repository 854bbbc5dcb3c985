import { type AnyRouter, getTRPCErrorFromUnknown, TRPCError } from '@trpc/server';
import { getParseFn, isObject } from '@trpc/server/unstable-core-do-not-import';

/**
 * Calling a procedure of a router by its path, as tRPC's caller does: the procedure's own chain —
 * its `.use()` middlewares, its input and output parsers, its resolver — in its order, with the
 * options and `next()` that tRPC's middleware contract defines, and errors as the `TRPCError`
 * tRPC would throw.
 *
 * tRPC's own runner copies the whole options object with a generic object-spread helper at every
 * level of the chain, and again in every `next()`: about 10 µs per level on a 2-core VM, 45 µs for
 * a create (four levels), which is as much as Fastify takes to parse, validate and answer the
 * request, and the copies leave objects in dictionary mode that the GC then has to move. Here each
 * level is one object literal of a fixed shape. The input and output steps, which tRPC builds as
 * middlewares of its own (marked `_type: 'input'` and `'output'`), are run here directly with the
 * same parse functions (`getParseFn`) over the procedure's parsers (`_def.inputs`, `_def.output`,
 * which trpc-to-openapi reads too).
 *
 * Semantics are tRPC 11's (`callRecursive`, `createProcedureCaller`, `createInputMiddleware`,
 * `createOutputMiddleware`); test/api/run-procedure.test.ts holds them equal to
 * `callTRPCProcedure` for every procedure of the router and for the parts of the contract the
 * router does not use (context and input passed to `next()`, several inputs), so an upgrade that
 * changes them fails there.
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

type Middleware = ((options: MiddlewareOptions) => Promise<Result>) & { _type?: string };
type ProcedureDef = {
  type: ProcedureType;
  meta: unknown;
  middlewares: Middleware[];
  inputs: unknown[];
  output?: unknown;
};

type Parse = (value: unknown) => unknown;

/** One step of a procedure's chain. */
type Step =
  | { kind: 'use'; middleware: Middleware }
  | { kind: 'input'; parse: Parse }
  | { kind: 'output'; parse: Parse };

type Chain = { def: ProcedureDef; steps: Step[] };

/** The steps of a procedure: its middlewares, with tRPC's input and output ones taken apart. */
function chainOf(def: ProcedureDef): Chain {
  let inputs = 0;
  const steps = def.middlewares.map((middleware): Step => {
    if (middleware._type === 'input') {
      return { kind: 'input', parse: getParseFn(def.inputs[inputs++] as never) as Parse };
    }
    if (middleware._type === 'output' && def.output !== undefined) {
      return { kind: 'output', parse: getParseFn(def.output as never) as Parse };
    }
    return { kind: 'use', middleware };
  });
  return { def, steps };
}

/** One call's state as it passes down the chain. */
type Call = {
  chain: Chain;
  path: string;
  signal: AbortSignal | undefined;
  ctx: object;
  input: unknown;
  getRawInput: () => Promise<unknown>;
};

async function runFrom(index: number, call: Call): Promise<Result> {
  try {
    const step = call.chain.steps[index] as Step;
    if (step.kind === 'input') {
      const raw = await call.getRawInput();
      let value: unknown;
      try {
        const result = step.parse(raw);
        value = result instanceof Promise ? await result : result;
      } catch (cause) {
        throw new TRPCError({ code: 'BAD_REQUEST', cause });
      }
      const input = isObject(call.input) && isObject(value) ? { ...call.input, ...value } : value;
      return await runFrom(index + 1, { ...call, input });
    }
    if (step.kind === 'output') {
      const result = await runFrom(index + 1, call);
      if (!result.ok) return result;
      try {
        const data = step.parse(result.data);
        return { ok: true, data: data instanceof Promise ? await data : data };
      } catch (cause) {
        throw new TRPCError({
          message: 'Output validation failed',
          code: 'INTERNAL_SERVER_ERROR',
          cause,
        });
      }
    }
    const { def } = call.chain;
    return await step.middleware({
      ctx: call.ctx,
      type: def.type,
      path: call.path,
      input: call.input,
      getRawInput: call.getRawInput,
      meta: def.meta,
      signal: call.signal,
      batchIndex: 0,
      next(options) {
        return runFrom(index + 1, {
          chain: call.chain,
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
  const chains = new Map<string, Chain>();
  for (const [path, procedure] of Object.entries(procedures)) {
    if (procedure) chains.set(path, chainOf(procedure._def));
  }
  return async (path, type, ctx, getRawInput, signal) => {
    const chain = chains.get(path);
    if (chain?.def.type !== type) {
      throw new TRPCError({
        code: 'NOT_FOUND',
        message: `No "${type}"-procedure on path "${path}"`,
      });
    }
    const result = await runFrom(0, { chain, path, signal, ctx, input: undefined, getRawInput });
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
