import { describe, expect, it } from 'vitest';
import {
  controllerBounds,
  createDeliveryController,
  nextLimit,
} from '../../src/worker/delivery-controller.ts';

const bounds = controllerBounds(64, 4_000, 0.3); // min 1, step 8

describe('nextLimit', () => {
  it('has a floor of one attempt and steps of 1/8 of the concurrency', () => {
    expect(bounds).toEqual({ max: 64, min: 1, step: 8, fullLagMs: 4_000, busyBudget: 0.3 });
    expect(controllerBounds(3)).toMatchObject({ max: 3, min: 1, step: 1 });
  });

  it.each([
    ['halves under pressure', 64, true, 0, undefined, 32],
    ['down to one under pressure', 3, true, 0, undefined, 1],
    ['not below one under pressure', 1, true, 0, undefined, 1],
    ['grows by 1/8 without pressure', 8, false, 0, undefined, 16],
    ['up to the concurrency without pressure', 60, false, 0, undefined, 64],
    ['halves under pressure while its thread is over budget', 32, true, 0, 0.5, 16],
    ['grows under pressure while its thread is within budget', 16, true, 0, 0.2, 24],
    ['grows without pressure however busy its thread', 16, false, 0, 0.9, 24],
    ['keeps a share that grows with lateness under pressure', 8, true, 1_000, undefined, 16],
    ['half the concurrency for callbacks half of fullLagMs late', 8, true, 2_000, 0.9, 32],
    ['the whole concurrency for callbacks fullLagMs late', 8, true, 4_000, 0.9, 64],
    ['no more than the whole', 64, true, 60_000, undefined, 64],
    ['a negative lag is no lag', 16, true, -500, undefined, 8],
  ] as const)(
    '%s: %i → (pressed %s, lag %i ms, busy %s) → %i',
    (_name, limit, pressed, lagMs, busy, next) => {
      expect(nextLimit(limit, { pressed, lagMs, busy }, bounds)).toBe(next);
    },
  );
});

describe('the delivery controller', () => {
  it('re-evaluates at most once per interval, with the lag last observed', () => {
    let clock = 0;
    let pressed = true;
    const controller = createDeliveryController({
      bounds,
      underPressure: () => pressed,
      now: () => clock,
      intervalMs: 100,
    });
    expect(controller.limit()).toBe(32);
    expect(controller.pressed).toBe(true);
    clock = 50;
    expect(controller.limit()).toBe(32);
    clock = 100;
    expect(controller.limit()).toBe(16);
    controller.observeLag(4_000);
    clock = 200;
    expect(controller.limit()).toBe(64);
    controller.observeLag(0);
    pressed = false;
    clock = 300;
    expect(controller.limit()).toBe(64);
    expect(controller.pressed).toBe(false);
  });
});
