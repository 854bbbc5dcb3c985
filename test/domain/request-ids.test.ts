import { describe, expect, it } from 'vitest';
import { newRequestId } from '../../src/domain/request-ids.ts';

describe('newRequestId', () => {
  it('makes distinct UUIDv7s that sort by creation time', async () => {
    const first = Array.from({ length: 1000 }, newRequestId);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const later = newRequestId();
    expect(new Set(first).size).toBe(1000);
    for (const id of [...first, later]) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(first.every((id) => id < later)).toBe(true);
    const millis = Number.parseInt(later.replace(/-/g, '').slice(0, 12), 16);
    expect(Math.abs(millis - Date.now())).toBeLessThan(60_000);
  });
});
