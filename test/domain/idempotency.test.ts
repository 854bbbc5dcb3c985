import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.ts';
import { replayedRequestId, requestFingerprint } from '../../src/domain/idempotency.ts';

const body = {
  stationId: '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f50',
  driverId: 'DRV-0001-ab.cd_ef~0123',
  callbackUrl: 'https://example.com/cb',
};

describe('requestFingerprint', () => {
  it('is the same for the same fields, station id in any case', () => {
    expect(requestFingerprint({ ...body, stationId: body.stationId.toUpperCase() })).toBe(
      requestFingerprint(body),
    );
  });

  it.each([
    ['driverId', { driverId: 'DRV-0001-ab.cd_ef~0124' }],
    ['callbackUrl', { callbackUrl: 'https://example.com/cb2' }],
    ['stationId', { stationId: '3f0e9a52-8a8c-4d8e-9f3a-7b1c2d3e4f51' }],
  ])('differs when %s differs', (_field, change) => {
    expect(requestFingerprint({ ...body, ...change })).not.toBe(requestFingerprint(body));
  });
});

describe('replayedRequestId', () => {
  it('answers the stored request for the same body, and refuses another body', () => {
    const stored = { requestId: 'r1', fingerprint: requestFingerprint(body) };
    expect(replayedRequestId('k', stored, requestFingerprint(body))).toBe('r1');
    expect(() =>
      replayedRequestId('k', stored, requestFingerprint({ ...body, driverId: 'x'.repeat(20) })),
    ).toThrow(
      new DomainError(
        'IDEMPOTENCY_KEY_REUSED',
        'Idempotency-Key "k" was already used with a different request body',
      ),
    );
  });
});
