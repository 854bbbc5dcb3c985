import { useEffect, useRef, useState } from 'preact/hooks';
import { type Api, errorMessage } from './api.ts';
import { formatDuration, formatTime } from './format.ts';
import { usePoll } from './use-poll.ts';

/** While a callback is pending the page follows it closely; once final it stops asking. */
const PENDING_REFRESH_MS = 1_000;

type Props = { api: Api; requestId: string; onClose: () => void };

export function RequestDetail({ api, requestId, onClose }: Props) {
  const heading = useRef<HTMLHeadingElement>(null);
  // After Redeliver: the attempt count the redelivery started from, until a new attempt ends it.
  const [awaiting, setAwaiting] = useState<number | null>(null);
  const [following, setFollowing] = useState(true);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const { data, error, reload } = usePoll(
    async () => {
      const [request, attempts] = await Promise.all([
        api.chargingSessionRequests.get.query({ requestId }),
        api.chargingSessionRequests.attempts.query({ requestId }),
      ]);
      return { request, attempts: attempts.data };
    },
    following ? PENDING_REFRESH_MS : 0,
    [api, requestId],
  );
  const request = data?.request;

  useEffect(() => {
    heading.current?.focus();
  }, []);

  useEffect(() => {
    if (!request) return;
    const { state, attempts, lastError } = request.callback;
    const settled = state !== 'pending' && (awaiting === null || attempts > awaiting);
    setFollowing(!settled);
    if (settled && awaiting !== null) {
      setAwaiting(null);
      setMessage(
        state === 'delivered'
          ? 'Redelivered: the receiver accepted the callback.'
          : `Redelivery failed${lastError ? `: ${lastError}` : '.'}`,
      );
    }
  }, [request, awaiting]);

  const redeliver = async () => {
    setBusy(true);
    try {
      const requeued = await api.chargingSessionRequests.redeliver.mutate({ requestId });
      setAwaiting(requeued.callback.attempts);
      setFollowing(true);
      setMessage('Redelivering…');
      reload();
    } catch (cause) {
      setMessage(`Could not redeliver: ${errorMessage(cause)}`);
    }
    setBusy(false);
  };

  const reason = request?.decision?.reason ?? null;

  return (
    <section class="card detail" aria-labelledby="detail-heading">
      <div class="detail-head">
        <h2 id="detail-heading" tabIndex={-1} ref={heading}>
          Request <span class="mono">{requestId}</span>
        </h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {request && (
        <dl class="facts">
          <div>
            <dt>Decision</dt>
            <dd>
              {request.decision ? (
                <>
                  <strong>{request.decision.status}</strong>
                  {reason && ` (${reason})`}, decided{' '}
                  <time dateTime={request.decision.decidedAt}>
                    {formatTime(request.decision.decidedAt)}
                  </time>
                </>
              ) : (
                'not decided yet'
              )}
            </dd>
          </div>
          <div>
            <dt>Callback state</dt>
            <dd>
              <span class={`state ${request.callback.state}`}>{request.callback.state}</span>
              {request.callback.nextAttemptAt && (
                <>
                  , next attempt{' '}
                  <time dateTime={request.callback.nextAttemptAt}>
                    {formatTime(request.callback.nextAttemptAt)}
                  </time>
                </>
              )}
            </dd>
          </div>
          <div>
            <dt>Station</dt>
            <dd class="mono">{request.stationId}</dd>
          </div>
          <div>
            <dt>Driver</dt>
            <dd class="mono">{request.driverId}</dd>
          </div>
          <div>
            <dt>Callback URL</dt>
            <dd class="mono">{request.callbackUrl}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <time dateTime={request.createdAt}>{formatTime(request.createdAt)}</time>
            </dd>
          </div>
        </dl>
      )}
      <div class="actions">
        <button type="button" onClick={redeliver} disabled={busy || !request}>
          Redeliver
        </button>
        <p class="status" role="status">
          {message}
        </p>
      </div>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls must be reachable by keyboard */}
      <section class="table-scroll" aria-label="Attempt timeline" tabIndex={0}>
        <table>
          <caption>Attempt timeline</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Duration</th>
              <th scope="col">Outcome</th>
              <th scope="col">Status code</th>
              <th scope="col">Error</th>
              <th scope="col">Response excerpt</th>
            </tr>
          </thead>
          <tbody>
            {data?.attempts.map((attempt) => (
              <tr key={attempt.attempt}>
                <td class="number">{attempt.attempt}</td>
                <td>
                  <time dateTime={attempt.startedAt}>{formatTime(attempt.startedAt)}</time>
                </td>
                <td class="number">{formatDuration(attempt.durationMs)}</td>
                <td>
                  <span class={`outcome ${attempt.outcome}`}>{attempt.outcome}</span>
                </td>
                <td class="number">{attempt.responseStatus ?? '—'}</td>
                <td class="wrap">{attempt.error ?? '—'}</td>
                <td class="wrap mono">
                  {attempt.responseBody ? excerpt(attempt.responseBody) : '—'}
                </td>
              </tr>
            ))}
            {data && data.attempts.length === 0 && (
              <tr>
                <td colSpan={7}>No attempts yet.</td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
    </section>
  );
}

const excerpt = (body: string) => (body.length > 200 ? `${body.slice(0, 200)}…` : body);
