import type { AuthorizerProtocol, Config, OcpiTokenType } from '../config.ts';

/**
 * What the callback worker is built from (`callback-worker.ts`), as plain data: the same on the
 * event loop and in the worker's own thread, where it arrives by structured clone. Kept apart
 * from the worker itself so that the composition root can make settings without loading the
 * worker's HTTP client when the worker runs in its thread.
 */
export type CallbackWorkerSettings = {
  leaseMs: number;
  callbackTimeoutMs: number;
  retrySchedule: readonly number[];
  /** CALLBACK_ALLOWED_CIDRS, as written there. */
  allowedCidrs: string;
  concurrency: number;
  perOriginConcurrency: number;
  pollIntervalMs: number;
  /** The signing secret in `whsec_` form: WEBHOOK_SECRET, or the one the database keeps. */
  webhookSecret: string;
  userAgent: string;
  /** Unset: the built-in ACL decides, in the store's claims. */
  authorizer:
    | {
        protocol: AuthorizerProtocol;
        url: string;
        timeoutMs: number;
        token: string | undefined;
        tokenType: OcpiTokenType;
      }
    | undefined;
};

export function callbackWorkerSettings(
  config: Config,
  webhookSecret: string,
  userAgent: string,
): CallbackWorkerSettings {
  return {
    leaseMs: config.workerLeaseMs,
    callbackTimeoutMs: config.callbackTimeoutMs,
    retrySchedule: config.callbackRetrySchedule,
    allowedCidrs: config.callbackAllowedCidrs.map(String).join(','),
    concurrency: config.workerConcurrency,
    perOriginConcurrency: config.callbackConcurrencyPerOrigin,
    pollIntervalMs: config.workerPollIntervalMs,
    webhookSecret,
    userAgent,
    authorizer: config.authorizerUrl
      ? {
          protocol: config.authorizerProtocol,
          url: config.authorizerUrl,
          timeoutMs: config.authorizerTimeoutMs,
          token: config.authorizerToken,
          tokenType: config.authorizerTokenType,
        }
      : undefined,
  };
}
