/**
 * The origin of a callback URL (scheme, host and port, as `new URL(...).origin` spells it:
 * lower-case, default ports left out), the unit that fair delivery limits and holds. Every
 * place that needs it derives it from the stored URL with this one function, so the store's
 * `callback_origin` column and the worker always agree.
 */
export function callbackOriginOf(callbackUrl: string): string {
  try {
    return new URL(callbackUrl).origin;
  } catch {
    // Stored URLs were validated when they were accepted; a bad one is its own origin.
    return callbackUrl;
  }
}
