import { describe, expect, it } from 'vitest';
import { type AclDriver, decideWithAcl } from '../../src/domain/decision.ts';

const now = Date.parse('2026-06-01T00:00:00Z');
const active: AclDriver = { status: 'active', expiresAt: null, allStations: false };

describe('decideWithAcl', () => {
  it.each([
    ['unknown driver', undefined, false, 'invalid', 'unknown_driver'],
    ['unknown driver, even with a grant', undefined, true, 'invalid', 'unknown_driver'],
    ['active and granted', active, true, 'allowed', 'granted'],
    ['active, not granted', active, false, 'not_allowed', 'station_not_granted'],
    ['active, all stations', { ...active, allStations: true }, false, 'allowed', 'granted'],
    ['blocked though granted', { ...active, status: 'blocked' }, true, 'not_allowed', 'blocked'],
    [
      'blocked with all stations',
      { ...active, status: 'blocked', allStations: true },
      true,
      'not_allowed',
      'blocked',
    ],
    ['expired a moment ago', { ...active, expiresAt: now - 1 }, true, 'not_allowed', 'expired'],
    ['expiring exactly now', { ...active, expiresAt: now }, true, 'not_allowed', 'expired'],
    ['expiring in a moment', { ...active, expiresAt: now + 1 }, true, 'allowed', 'granted'],
    [
      'expired with all stations',
      { ...active, expiresAt: now - 1, allStations: true },
      false,
      'not_allowed',
      'expired',
    ],
  ] as const)('%s → %s', (_name, driver, granted, status, reason) => {
    expect(decideWithAcl(driver as AclDriver | undefined, granted, now)).toEqual({
      status,
      source: 'acl',
      reason,
    });
  });
});
