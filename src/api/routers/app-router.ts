import type { Context } from '../context.ts';
import { type ProcedureType, procedureRunner } from '../run-procedure.ts';
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
 * `createCaller(ctx)` builds or the per-level copies of tRPC's runner (`run-procedure.ts`).
 * `getRawInput` is read once, when the input parser runs.
 */
const runProcedure = procedureRunner(appRouter);

export function callProcedure(
  path: string,
  type: ProcedureType,
  ctx: Context,
  getRawInput: () => Promise<unknown>,
): Promise<unknown> {
  return runProcedure(path, type, ctx, getRawInput);
}
