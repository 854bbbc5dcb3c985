import { useState } from 'preact/hooks';
import { type Api, errorMessage } from './api.ts';
import { fromLocalInput, toLocalInput } from './format.ts';

const DAY_MS = 86_400_000;

/** After a receiver outage: send every failed callback again, from a chosen time on. */
export function RecoverFailed({ api }: { api: Api }) {
  const [since, setSince] = useState(() => toLocalInput(new Date(Date.now() - DAY_MS)));
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setResult(null);
    const instant = fromLocalInput(since);
    if (instant === null) {
      setError('Choose a date and time.');
      return;
    }
    setBusy(true);
    try {
      const { requeued } = await api.callbacks.recover.mutate({ since: instant });
      setResult(
        requeued === 1 ? 'Re-queued 1 failed callback.' : `Re-queued ${requeued} failed callbacks.`,
      );
    } catch (cause) {
      setError(errorMessage(cause));
    }
    setBusy(false);
  };

  return (
    <section class="card recover" aria-labelledby="recover-heading">
      <h2 id="recover-heading">Recover failed</h2>
      <form onSubmit={submit}>
        <label for="recover-since">Requests created since</label>
        <input
          id="recover-since"
          type="datetime-local"
          required
          aria-describedby="recover-hint"
          value={since}
          onInput={(event) => setSince(event.currentTarget.value)}
        />
        <p id="recover-hint" class="hint">
          Every failed callback of a request created at or after this time (your local time) is sent
          again with a fresh retry schedule.
        </p>
        <button type="submit" disabled={busy}>
          Recover failed
        </button>
      </form>
      <p class="status" role="status">
        {result}
      </p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
