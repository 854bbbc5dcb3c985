import { useState } from 'preact/hooks';
import { type Api, CALLBACK_STATES, type CallbackState, errorMessage, isNotFound } from './api.ts';
import { formatTime } from './format.ts';
import { usePoll } from './use-poll.ts';

const PAGE_SIZE = 20;
const REFRESH_MS = 5_000;

type Props = { api: Api; onOpen: (requestId: string) => void };

/** Requests, newest first, a page at a time with the API's cursor. */
export function Requests({ api, onOpen }: Props) {
  const [state, setState] = useState<CallbackState | ''>('');
  // The cursors of the pages before this one: "Previous page" pops one.
  const [cursors, setCursors] = useState<Array<string | undefined>>([undefined]);
  const cursor = cursors.at(-1);
  const [findId, setFindId] = useState('');
  const [findError, setFindError] = useState<string | null>(null);

  const { data: page, error } = usePoll(
    () =>
      api.chargingSessionRequests.list.query({
        callbackState: state === '' ? undefined : state,
        limit: PAGE_SIZE,
        cursor,
      }),
    REFRESH_MS,
    [api, state, cursor],
  );

  const find = async (event: Event) => {
    event.preventDefault();
    setFindError(null);
    const requestId = findId.trim();
    try {
      const found = await api.chargingSessionRequests.get.query({ requestId });
      onOpen(found.requestId);
    } catch (cause) {
      setFindError(isNotFound(cause) ? `No request has the id ${requestId}.` : errorMessage(cause));
    }
  };

  return (
    <section class="card requests" aria-labelledby="requests-heading">
      <h2 id="requests-heading">Requests</h2>
      <div class="toolbar">
        <div class="field">
          <label for="state-filter">Callback state</label>
          <select
            id="state-filter"
            value={state}
            onChange={(event) => {
              setState(event.currentTarget.value as CallbackState | '');
              setCursors([undefined]);
            }}
          >
            <option value="">All</option>
            {CALLBACK_STATES.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
        </div>
        <form class="field inline" onSubmit={find}>
          <label for="find-request">Request id</label>
          <input
            id="find-request"
            required
            spellcheck={false}
            autocomplete="off"
            value={findId}
            onInput={(event) => setFindId(event.currentTarget.value)}
          />
          <button type="submit">Find</button>
        </form>
      </div>
      {findError && (
        <p class="error" role="alert">
          {findError}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a region that scrolls must be reachable by keyboard */}
      <section class="table-scroll" aria-label="Requests table" tabIndex={0}>
        <table>
          <caption>
            {state === '' ? 'All requests' : `Requests whose callback is ${state}`}, newest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Request id</th>
              <th scope="col">Station</th>
              <th scope="col">Driver</th>
              <th scope="col">Decision</th>
              <th scope="col">Callback</th>
              <th scope="col">Attempts</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {page?.data.map((request) => (
              <tr key={request.requestId}>
                <td>
                  <button
                    type="button"
                    class="link mono"
                    onClick={() => onOpen(request.requestId)}
                    aria-label={`Open request ${request.requestId}`}
                  >
                    {request.requestId}
                  </button>
                </td>
                <td class="mono">{request.stationId}</td>
                <td class="mono">{request.driverId}</td>
                <td>{request.decision?.status ?? 'undecided'}</td>
                <td>
                  <span class={`state ${request.callback.state}`}>{request.callback.state}</span>
                </td>
                <td class="number">{request.callback.attempts}</td>
                <td>
                  <time dateTime={request.createdAt}>{formatTime(request.createdAt)}</time>
                </td>
              </tr>
            ))}
            {page && page.data.length === 0 && (
              <tr>
                <td colSpan={7}>No requests.</td>
              </tr>
            )}
          </tbody>
        </table>
      </section>
      <nav class="pager" aria-label="Request pages">
        <button
          type="button"
          disabled={cursors.length < 2}
          onClick={() => setCursors((list) => list.slice(0, -1))}
        >
          Previous page
        </button>
        <span>Page {cursors.length}</span>
        <button
          type="button"
          disabled={!page?.nextCursor}
          onClick={() => {
            const next = page?.nextCursor;
            if (next) setCursors((list) => [...list, next]);
          }}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}
