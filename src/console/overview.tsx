import { ActivityChart } from './activity-chart.tsx';
import type { Api } from './api.ts';
import { formatAge, formatTime } from './format.ts';
import { usePoll } from './use-poll.ts';

/** How often the overview reads the numbers again. */
export const OVERVIEW_REFRESH_MS = 3_000;

export function Overview({ api }: { api: Api }) {
  const { data: stats, error } = usePoll(() => api.callbacks.stats.query({}), OVERVIEW_REFRESH_MS, [
    api,
  ]);

  return (
    <section class="card overview" aria-labelledby="overview-heading">
      <h2 id="overview-heading">Overview</h2>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {stats && (
        <>
          <dl class="counts">
            <div class="count pending">
              <dt>Pending</dt>
              <dd>{stats.callbacks.pending}</dd>
            </div>
            <div class="count delivered">
              <dt>Delivered</dt>
              <dd>{stats.callbacks.delivered}</dd>
            </div>
            <div class="count failed">
              <dt>Failed</dt>
              <dd>{stats.callbacks.failed}</dd>
            </div>
            <div class="count">
              <dt>Oldest pending</dt>
              <dd>{stats.oldestPending ? formatAge(stats.oldestPending.ageSeconds) : 'none'}</dd>
            </div>
          </dl>
          <ActivityChart perMinute={stats.perMinute} />
          <p class="hint">
            Updated <time dateTime={stats.at}>{formatTime(stats.at)}</time>, every{' '}
            {OVERVIEW_REFRESH_MS / 1000} s.
          </p>
        </>
      )}
    </section>
  );
}
