import { useEffect, useState } from 'preact/hooks';
import { logout, whenSessionExpires, type Session } from './api';
import { Link } from './components';
import { JobPage } from './pages/job';
import { JobsPage } from './pages/jobs';
import { LoginPage } from './pages/login';
import { QueuesPage } from './pages/queues';
import { useRoute } from './router';

type LayerPageComponent = (typeof import('./pages/layer'))['LayerPage'];

/** The layer page and MapLibre with it, loaded only when a map is opened: most visits never need a megabyte of map code. */
function LazyLayerPage({ id }: { id: string }) {
  const [Page, setPage] = useState<LayerPageComponent | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    import('./pages/layer').then(
      (module) => setPage(() => module.LayerPage),
      () => setFailed(true),
    );
  }, []);
  if (failed) return <p role="alert">The map could not be loaded; reload the page.</p>;
  return Page ? <Page id={id} /> : <p>Loading the map…</p>;
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [expired, setExpired] = useState(false);
  const route = useRoute();

  useEffect(() => {
    whenSessionExpires(() => {
      setExpired(true);
      setSession(null);
    });
  }, []);

  useEffect(() => {
    const titles = { jobs: 'Jobs', job: 'Job', layer: 'Layer', queues: 'Queues' } as const;
    document.title = `${session ? titles[route.page] : 'Log in'} · geojobs`;
  }, [route, session]);

  if (!session) {
    return (
      <LoginPage
        notice={expired ? 'Your session has ended; log in again.' : undefined}
        onLogin={(started) => {
          setExpired(false);
          setSession(started);
        }}
      />
    );
  }

  const canChange = session.role !== 'reader';
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">geojobs</span>
        <nav aria-label="Main">
          <Link to="/" class={route.page === 'jobs' || route.page === 'job' ? 'current' : undefined}>
            Jobs
          </Link>
          <Link to="/queues" class={route.page === 'queues' ? 'current' : undefined}>
            Queues
          </Link>
        </nav>
        <span class="who">
          {session.username} <span class="role">({session.role})</span>
        </span>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            logout();
            setSession(null);
          }}
        >
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === 'jobs' && <JobsPage search={route.search} canChange={canChange} />}
        {route.page === 'job' && <JobPage id={route.id} canChange={canChange} />}
        {route.page === 'layer' && <LazyLayerPage id={route.id} />}
        {route.page === 'queues' && <QueuesPage canChange={session.role === 'admin'} />}
      </main>
    </>
  );
}
