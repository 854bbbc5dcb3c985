import { randomBytes } from 'node:crypto';

/** Standard Webhooks signing secrets: `whsec_` followed by base64 of 24–64 random bytes. */

const PREFIX = 'whsec_';
const MIN_BYTES = 24;
const MAX_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export class InvalidWebhookSecretError extends Error {}

/** Answers the HMAC key inside a secret, or throws saying what is wrong with it. */
export function webhookSecretKey(secret: string): Buffer {
  if (!secret.startsWith(PREFIX)) {
    throw new InvalidWebhookSecretError(`must start with "${PREFIX}"`);
  }
  const encoded = secret.slice(PREFIX.length);
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) {
    throw new InvalidWebhookSecretError(`must be "${PREFIX}" followed by standard base64`);
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_BYTES || key.length > MAX_BYTES) {
    throw new InvalidWebhookSecretError(
      `must encode ${MIN_BYTES} to ${MAX_BYTES} bytes (this one encodes ${key.length})`,
    );
  }
  return key;
}

/** A new secret with 32 random bytes. */
export function generateWebhookSecret(): string {
  return PREFIX + randomBytes(32).toString('base64');
}
