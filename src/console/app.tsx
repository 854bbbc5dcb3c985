import { useCallback, useMemo, useState } from 'preact/hooks';
import { createApi } from './api.ts';
import { Drivers } from './drivers.tsx';
import { Overview } from './overview.tsx';
import { RecoverFailed } from './recover-failed.tsx';
import { RequestDetail } from './request-detail.tsx';
import { Requests } from './requests.tsx';
import { session } from './session.ts';
import { SignIn } from './sign-in.tsx';

export function App() {
  const [token, setToken] = useState<string | null>(() => session.token());
  const [notice, setNotice] = useState<string | null>(null);
  const [openRequest, setOpenRequest] = useState<string | null>(null);

  const signOut = useCallback((why: string | null) => {
    session.forget();
    setToken(null);
    setOpenRequest(null);
    setNotice(why);
  }, []);

  const api = useMemo(
    () =>
      token === null
        ? null
        : createApi(token, () => signOut('The admin token was refused. Sign in again.')),
    [token, signOut],
  );

  if (api === null) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(accepted) => {
          session.keep(accepted);
          setNotice(null);
          setToken(accepted);
        }}
      />
    );
  }

  return (
    <>
      <header class="topbar">
        <h1>chargegate console</h1>
        <button type="button" onClick={() => signOut(null)}>
          Sign out
        </button>
      </header>
      <main class="layout">
        <Overview api={api} />
        <RecoverFailed api={api} />
        <Requests api={api} onOpen={setOpenRequest} />
        {openRequest !== null && (
          <RequestDetail
            key={openRequest}
            api={api}
            requestId={openRequest}
            onClose={() => setOpenRequest(null)}
          />
        )}
        <Drivers api={api} />
      </main>
    </>
  );
}
