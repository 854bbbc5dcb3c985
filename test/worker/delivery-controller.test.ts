import { describe, expect, it } from 'vitest';
import {
  controllerBounds,
  createDeliveryController,
  nextLimit,
} from '../../src/worker/delivery-controller.ts';

const bounds = controllerBounds(64, 4_000); // min 8, step 8

describe('nextLimit', () => {
  it('has a floor of 1/8 and steps of 1/8 of the concurrency', () => {
    expect(bounds).toEqual({ max: 64, min: 8, step: 8, fullLagMs: 4_000 });
    expect(controllerBounds(3)).toMatchObject({ max: 3, min: 1, step: 1 });
  });

  it.each([
    ['halves under pressure', 64, true, 0, 32],
    ['down to 1/8 under pressure', 12, true, 0, 8],
    ['not below 1/8 under pressure', 8, true, 0, 8],
    ['grows by 1/8 without pressure', 8, false, 0, 16],
    ['up to the concurrency without pressure', 60, false, 0, 64],
    ['keeps a share that grows with lateness under pressure', 8, true, 1_000, 16],
    ['half the concurrency for callbacks half of fullLagMs late', 8, true, 2_000, 32],
    ['the whole concurrency for callbacks fullLagMs late', 8, true, 4_000, 64],
    ['no more than the whole', 64, true, 60_000, 64],
    ['a negative lag is no lag', 16, true, -500, 8],
  ])('%s: %i → (pressed %s, lag %i ms) → %i', (_name, limit, pressed, lagMs, next) => {
    expect(nextLimit(limit, { pressed, lagMs }, bounds)).toBe(next);
  });
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
