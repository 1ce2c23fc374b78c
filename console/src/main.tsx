/**
 * The pakman web console: sign-in, then pages over the public API (orgs, keys, projects, global keys,
 * users, events). Stack: Preact (about 4 kB gzipped, the React model without React's weight) built by Vite.
 */
import { Fragment, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type ListPage, type SessionInfo, sessionCall, useSession } from './api.js';
import { AdminPage, GlobalKeyPage } from './pages/admin.js';
import { EventsPage } from './pages/events.js';
import { KeyPage, KeysPage, NewKeyPage } from './pages/keys.js';
import { ProjectPage, ProjectsPage } from './pages/projects.js';
import { SignIn } from './pages/signin.js';
import { UsersPage } from './pages/users.js';
import { Powers } from './roles.js';
import { currentRoute, go, href, useRoute } from './router.js';
import { ErrorNote, useLoad } from './ui.js';

interface Org {
  id: string;
  name: string;
}

function Shell({ session, onSignOut }: { session: SessionInfo; onSignOut: () => void }) {
  const route = useRoute();
  const powers = new Powers(session.roles ?? []);
  const orgs = useLoad(() => api<ListPage<Org>>('GET', '/orgs?itemsPerPage=500'), []);
  const [outError, setOutError] = useState<unknown>();
  // Project pages keep the org of the page before them in the header (the org picker and its tabs).
  const [lastOrg, setLastOrg] = useState<string | undefined>();
  const routeOrg = route[0] === 'orgs' ? route[1] : undefined;
  useEffect(() => {
    if (routeOrg) setLastOrg(routeOrg);
  }, [routeOrg]);
  const orgId = routeOrg ?? (route[0] === 'projects' ? lastOrg : undefined);
  const known = !orgId || !orgs.data || orgs.data.results.some((o) => o.id === orgId);
  useEffect(() => {
    // An org made since the list was read (elsewhere, or on the Global page): read the list again.
    if (!known) orgs.reload();
  }, [known, orgs.reload]);
  useEffect(() => {
    // Nothing chosen yet: the first org's keys. The address is read again, not only the route state: a
    // navigation may have come in since this render, and it must not be overridden.
    const first = orgs.data?.results[0];
    if (route.length === 0 && first && currentRoute().length === 0) go(`/orgs/${first.id}/keys`);
  }, [orgs.data, route.length]);
  const props = { session, powers };
  let page = null;
  const [a, b, c, d] = route;
  if (a === 'orgs' && b && c === 'keys' && d === 'new') page = <NewKeyPage {...props} orgId={b} />;
  else if (a === 'orgs' && b && c === 'keys' && d) page = <KeyPage {...props} orgId={b} keyId={d} />;
  else if (a === 'orgs' && b && c === 'keys') page = <KeysPage {...props} orgId={b} />;
  else if (a === 'orgs' && b && c === 'projects') page = <ProjectsPage {...props} orgId={b} />;
  else if (a === 'orgs' && b && c === 'events') page = <EventsPage {...props} scope="orgs" id={b} />;
  else if (a === 'orgs' && b && c === 'users') page = <UsersPage {...props} orgId={b} />;
  else if (a === 'projects' && b && c === 'events') page = <EventsPage {...props} scope="groups" id={b} />;
  else if (a === 'projects' && b) page = <ProjectPage {...props} groupId={b} />;
  else if (a === 'admin' && b === 'keys' && c) page = <GlobalKeyPage {...props} keyId={c} />;
  else if (a === 'admin') page = <AdminPage {...props} />;
  else if (orgs.data && orgs.data.results.length === 0)
    page = (
      <p>
        You belong to no organization yet.
        {powers.anyGlobal && (
          <>
            {' '}
            See <a href={href('/admin')}>Global keys</a>.
          </>
        )}
      </p>
    );
  const tab = (path: string, label: string, current: boolean) => (
    <a href={href(path)} aria-current={current ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <strong class="brand">pakman</strong>
        {orgs.data && orgs.data.results.length > 0 && (
          <>
            <label for="org-picker" class="sr-only">
              Organization
            </label>
            <select
              id="org-picker"
              value={orgId ?? ''}
              onChange={(e) => go(`/orgs/${(e.currentTarget as HTMLSelectElement).value}/keys`)}
            >
              {!orgId && <option value="">Choose an organization</option>}
              {orgs.data.results.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          </>
        )}
        <nav aria-label="Sections" class="tabs">
          {orgId && tab(`/orgs/${orgId}/keys`, 'API keys', route[2] === 'keys')}
          {orgId && tab(`/orgs/${orgId}/projects`, 'Projects', route[2] === 'projects')}
          {orgId && tab(`/orgs/${orgId}/users`, 'Users', route[2] === 'users')}
          {orgId && tab(`/orgs/${orgId}/events`, 'Events', route[2] === 'events')}
          {powers.anyGlobal && tab('/admin', 'Global', route[0] === 'admin')}
        </nav>
        <span class="who">
          {session.user?.username}{' '}
          <button
            type="button"
            onClick={async () => {
              try {
                await sessionCall('DELETE');
                onSignOut();
              } catch (e) {
                setOutError(e);
              }
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorNote error={outError ?? orgs.error} />
        {/* A page's state (filters, forms) belongs to its route: another route starts afresh. */}
        <Fragment key={route.join('/')}>{page}</Fragment>
      </main>
    </>
  );
}

function App() {
  const [session, setSession] = useState<SessionInfo | undefined>();
  const [error, setError] = useState<unknown>();
  const check = () => sessionCall('GET').then(setSession, setError);
  useEffect(() => {
    check();
  }, []);
  useSession(session?.csrfToken, () => check());
  if (error) return <ErrorNote error={error} />;
  if (!session) return <p aria-busy="true">Loading…</p>;
  if (!session.signedIn) return <SignIn first={session.firstUser === true} onSignedIn={setSession} />;
  return <Shell session={session} onSignOut={() => check()} />;
}

render(<App />, document.getElementById('app')!);
