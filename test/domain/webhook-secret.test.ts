import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, webhookSecretKey } from '../../src/domain/webhook-secret.ts';

const secretOf = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`;

describe('webhook secrets', () => {
  it('decodes 24 to 64 bytes', () => {
    expect(webhookSecretKey(secretOf(24))).toHaveLength(24);
    expect(webhookSecretKey(secretOf(64))).toHaveLength(64);
  });

  it.each([
    ['23 bytes', secretOf(23), /must encode 24 to 64 bytes \(this one encodes 23\)/],
    ['65 bytes', secretOf(65), /must encode 24 to 64 bytes/],
    ['no prefix', Buffer.alloc(32).toString('base64'), /must start with "whsec_"/],
    ['not base64', 'whsec_not base64!!', /standard base64/],
  ])('refuses %s', (_name, secret, message) => {
    expect(() => webhookSecretKey(secret)).toThrow(message);
  });

  it('generates valid, different secrets', () => {
    const first = generateWebhookSecret();
    expect(webhookSecretKey(first)).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(first);
  });
});
