import type pg from 'pg';
import type { Claim } from '../../../domain/request-record.ts';

/**
 * Giving claims back. A released row is due again at once for any instance. Only the holder of
 * the claim (same owner and token) can release one row; `releaseAll` is for an owner that is
 * stopping, or that is known to be gone.
 */

export async function release(pool: pg.Pool, claim: Claim): Promise<void> {
  await pool.query(
    `UPDATE charging_session_requests SET locked_by = NULL, locked_until = NULL
     WHERE id = $1 AND locked_by = $2 AND claim_token = $3`,
    [claim.id, claim.owner, claim.token],
  );
}

export async function releaseAll(pool: pg.Pool, owner: string): Promise<number> {
  const result = await pool.query(
    `UPDATE charging_session_requests SET locked_by = NULL, locked_until = NULL
     WHERE locked_by = $1`,
    [owner],
  );
  return result.rowCount ?? 0;
}

/** The owners of claims that have not expired at `now`. */
export async function claimOwners(pool: pg.Pool, now: number): Promise<string[]> {
  const { rows } = await pool.query<{ owner: string }>(
    `SELECT DISTINCT locked_by AS owner FROM charging_session_requests
     WHERE locked_by IS NOT NULL AND callback_state = 'pending' AND locked_until > $1`,
    [now],
  );
  return rows.map((row) => row.owner);
}
