import type pg from 'pg';

/**
 * When the next pending callback not yet due becomes due, or null. Claims held past their lease
 * are found by the worker's periodic poll, not by this.
 */
export async function nextDueAfter(pool: pg.Pool, now: number): Promise<number | null> {
  const { rows } = await pool.query<{ at: number }>(
    `SELECT next_attempt_at AS at FROM charging_session_requests
     WHERE callback_state = 'pending' AND next_attempt_at > $1
     ORDER BY next_attempt_at LIMIT 1`,
    [now],
  );
  return rows[0]?.at ?? null;
}
