import { callTRPCProcedure, type TRPCProcedureType } from '@trpc/server';
import type { Context } from '../context.ts';
import { router } from '../trpc.ts';
import { callbacksRouter } from './callbacks.ts';
import { chargingSessionRequestsRouter } from './charging-session-requests.ts';
import { driversRouter } from './drivers.ts';

/** The one router: every procedure of the tRPC door, the REST door and the OpenAPI document. */
export const appRouter = router({
  chargingSessionRequests: chargingSessionRequestsRouter,
  drivers: driversRouter,
  callbacks: callbacksRouter,
});

export type AppRouter = typeof appRouter;

/**
 * Calls one procedure by its path, as tRPC's own caller and HTTP handler do (the procedure's
 * middleware, input and output parsers, errors as `TRPCError`), without the per-call proxy a
 * `createCaller(ctx)` builds. `getRawInput` is read once, when the input parser runs.
 */
export function callProcedure(
  path: string,
  type: TRPCProcedureType,
  ctx: Context,
  getRawInput: () => Promise<unknown>,
): Promise<unknown> {
  return callTRPCProcedure({
    router: appRouter,
    path,
    type,
    ctx,
    getRawInput,
    signal: undefined,
    batchIndex: 0,
  });
}
