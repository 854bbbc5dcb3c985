import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/**
 * Request ids: UUIDv7, so that they sort by creation time. Time-ordered ids keep every insert at
 * the right edge of the indexes, where a commit touches a few pages instead of one per row.
 * The random bits come from a pool refilled 256 ids at a time: one call into the kernel's
 * random source per 256 ids rather than one per id.
 */

const POOL = Buffer.allocUnsafe(16 * 256);
let offset = POOL.length;

function randomBytes16(): Uint8Array {
  if (offset === POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const bytes = POOL.subarray(offset, offset + 16);
  offset += 16;
  return bytes;
}

export function newRequestId(): string {
  return uuidv7({ random: randomBytes16() });
}
