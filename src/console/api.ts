import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../api/routers/app-router.ts';

/**
 * The console's only way to chargegate: the typed tRPC client over the same router as the
 * server, so a changed procedure fails `npm run typecheck` here. The API stays the authority:
 * every call carries the token, and any 401 ends the console's session.
 */

type Outputs = inferRouterOutputs<AppRouter>;
type Inputs = inferRouterInputs<AppRouter>;

export type Stats = Outputs['callbacks']['stats'];
export type RequestView = Outputs['chargingSessionRequests']['get'];
export type RequestPage = Outputs['chargingSessionRequests']['list'];
export type Attempt = Outputs['chargingSessionRequests']['attempts']['data'][number];
export type Driver = Outputs['drivers']['get'];
export type CallbackState = NonNullable<Inputs['chargingSessionRequests']['list']['callbackState']>;

export const CALLBACK_STATES: readonly CallbackState[] = ['pending', 'delivered', 'failed'];

export function createApi(token: string, onUnauthorized: () => void = () => {}) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: '/trpc',
        headers: () => ({ authorization: `Bearer ${token}` }),
        fetch: async (input, init) => {
          const response = await fetch(input, init);
          if (response.status === 401) onUnauthorized();
          return response;
        },
      }),
    ],
  });
}

export type Api = ReturnType<typeof createApi>;

export const isUnauthorized = (error: unknown): boolean =>
  error instanceof TRPCClientError && error.data?.code === 'UNAUTHORIZED';

export const isNotFound = (error: unknown): boolean =>
  error instanceof TRPCClientError && error.data?.code === 'NOT_FOUND';

/** What to tell the operator: the API's own message (it names the field), or the network. */
export function errorMessage(error: unknown): string {
  if (error instanceof TRPCClientError && error.data) return error.message;
  return 'chargegate could not be reached; try again';
}
