import { useState } from 'preact/hooks';
import { createApi, errorMessage, isUnauthorized } from './api.ts';

type Props = { notice: string | null; onSignedIn: (token: string) => void };

/** Asks for the admin token and keeps it only once chargegate has accepted it. */
export function SignIn({ notice, onSignedIn }: Props) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await createApi(token).callbacks.stats.query({});
      onSignedIn(token);
    } catch (cause) {
      setError(
        isUnauthorized(cause)
          ? 'That admin token was not accepted.'
          : `Could not sign in: ${errorMessage(cause)}`,
      );
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>chargegate console</h1>
      <form class="card" onSubmit={submit}>
        <h2>Sign in</h2>
        {notice && <p class="notice">{notice}</p>}
        <label for="admin-token">Admin token</label>
        <input
          id="admin-token"
          type="password"
          autocomplete="current-password"
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        <p class="hint">
          The server's ADMIN_TOKEN. It stays in this browser tab and is forgotten when the tab
          closes or you sign out.
        </p>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
