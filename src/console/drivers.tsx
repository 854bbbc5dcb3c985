import { useState } from 'preact/hooks';
import { type Api, type Driver, errorMessage, isNotFound } from './api.ts';
import { formatTime, fromLocalInput, toLocalInput } from './format.ts';

type Change = { status?: Driver['status']; expiresAt?: string | null; allStations?: boolean };

/** The built-in ACL: look a driver up and change what it may do. */
export function Drivers({ api }: { api: Api }) {
  const [lookupId, setLookupId] = useState('');
  const [driver, setDriver] = useState<Driver | null>(null);
  const [expiry, setExpiry] = useState('');
  const [station, setStation] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const show = (next: Driver, done?: string) => {
    setDriver(next);
    setExpiry(next.expiresAt ? toLocalInput(new Date(next.expiresAt)) : '');
    setStatus(done ?? null);
  };

  /** Runs a change and shows the driver it returns; answers whether it succeeded. */
  const run = async (action: () => Promise<Driver>, done: string): Promise<boolean> => {
    setBusy(true);
    setError(null);
    setStatus(null);
    let succeeded = false;
    try {
      show(await action(), done);
      succeeded = true;
    } catch (cause) {
      setError(errorMessage(cause));
    }
    setBusy(false);
    return succeeded;
  };

  const lookUp = async (event: Event) => {
    event.preventDefault();
    const driverId = lookupId.trim();
    setBusy(true);
    setError(null);
    setStatus(null);
    setDriver(null);
    try {
      show(await api.drivers.get.query({ driverId }));
    } catch (cause) {
      setError(isNotFound(cause) ? `No driver has the id ${driverId}.` : errorMessage(cause));
    }
    setBusy(false);
  };

  const update = (current: Driver, change: Change, done: string) =>
    run(
      () =>
        api.drivers.upsert.mutate({
          driverId: current.driverId,
          status: change.status ?? current.status,
          expiresAt: change.expiresAt,
          allStations: change.allStations,
        }),
      done,
    );

  return (
    <section class="card drivers" aria-labelledby="drivers-heading">
      <h2 id="drivers-heading">Drivers</h2>
      <form class="field inline" onSubmit={lookUp}>
        <label for="driver-id">Driver id</label>
        <input
          id="driver-id"
          required
          spellcheck={false}
          autocomplete="off"
          value={lookupId}
          onInput={(event) => setLookupId(event.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Look up
        </button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {driver && (
        <div class="driver">
          <dl class="facts">
            <div>
              <dt>Driver</dt>
              <dd class="mono">{driver.driverId}</dd>
            </div>
            <div>
              <dt>Status</dt>
              <dd>
                <span class={`state ${driver.status}`}>{driver.status}</span>
              </dd>
            </div>
            <div>
              <dt>Expires</dt>
              <dd>
                {driver.expiresAt ? (
                  <time dateTime={driver.expiresAt}>{formatTime(driver.expiresAt)}</time>
                ) : (
                  'never'
                )}
              </dd>
            </div>
            <div>
              <dt>All stations</dt>
              <dd>{driver.allStations ? 'yes' : 'no'}</dd>
            </div>
          </dl>

          <div class="actions">
            {driver.status === 'active' ? (
              <button
                type="button"
                disabled={busy}
                onClick={() => update(driver, { status: 'blocked' }, 'Driver blocked.')}
              >
                Block
              </button>
            ) : (
              <button
                type="button"
                disabled={busy}
                onClick={() => update(driver, { status: 'active' }, 'Driver unblocked.')}
              >
                Unblock
              </button>
            )}
            <label class="check">
              <input
                type="checkbox"
                checked={driver.allStations}
                disabled={busy}
                onChange={(event) =>
                  update(
                    driver,
                    { allStations: event.currentTarget.checked },
                    event.currentTarget.checked
                      ? 'The driver may charge at every station.'
                      : 'The driver may charge at granted stations only.',
                  )
                }
              />
              All stations
            </label>
          </div>

          <form
            class="field inline"
            onSubmit={(event) => {
              event.preventDefault();
              const expiresAt = fromLocalInput(expiry);
              if (expiresAt === null) setError('Choose a date and time for the expiry.');
              else update(driver, { expiresAt }, 'Expiry set.');
            }}
          >
            <label for="driver-expiry">Expires at</label>
            <input
              id="driver-expiry"
              type="datetime-local"
              value={expiry}
              onInput={(event) => setExpiry(event.currentTarget.value)}
            />
            <button type="submit" disabled={busy}>
              Set expiry
            </button>
            <button
              type="button"
              disabled={busy || driver.expiresAt === null}
              onClick={() => update(driver, { expiresAt: null }, 'Expiry cleared.')}
            >
              Clear expiry
            </button>
          </form>

          <h3>Granted stations</h3>
          {driver.stations.length === 0 ? (
            <p>None.</p>
          ) : (
            <ul class="stations">
              {driver.stations.map((stationId) => (
                <li key={stationId}>
                  <span class="mono">{stationId}</span>
                  <button
                    type="button"
                    disabled={busy}
                    aria-label={`Revoke station ${stationId}`}
                    onClick={() =>
                      run(
                        () =>
                          api.drivers.revokeStation.mutate({
                            driverId: driver.driverId,
                            stationId,
                          }),
                        'Station revoked.',
                      )
                    }
                  >
                    Revoke
                  </button>
                </li>
              ))}
            </ul>
          )}
          <form
            class="field inline"
            onSubmit={(event) => {
              event.preventDefault();
              const stationId = station.trim();
              void run(
                () => api.drivers.grantStation.mutate({ driverId: driver.driverId, stationId }),
                'Station granted.',
              ).then((granted) => granted && setStation(''));
            }}
          >
            <label for="grant-station">Station id</label>
            <input
              id="grant-station"
              required
              spellcheck={false}
              autocomplete="off"
              value={station}
              onInput={(event) => setStation(event.currentTarget.value)}
            />
            <button type="submit" disabled={busy}>
              Grant station
            </button>
          </form>
        </div>
      )}
      <p class="status" role="status">
        {status}
      </p>
    </section>
  );
}
