import { createCallerFactory, router } from '../trpc.ts';
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

export const createCaller = createCallerFactory(appRouter);
