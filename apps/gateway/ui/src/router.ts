import { useEffect, useState } from 'preact/hooks';

/** The dashboard's pages, under /ui: the jobs list (with its filter in the query string), a job, a layer, the queues. */
export type Route = { page: 'jobs'; search: URLSearchParams } | { page: 'job'; id: string } | { page: 'layer'; id: string } | { page: 'queues' };

const BASE = '/ui';

export function parseRoute(pathname: string, search: string): Route {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const job = /^\/jobs\/([^/]+)\/?$/.exec(path);
  if (job) return { page: 'job', id: decodeURIComponent(job[1]) };
  const layer = /^\/layers\/([^/]+)\/?$/.exec(path);
  if (layer) return { page: 'layer', id: decodeURIComponent(layer[1]) };
  if (/^\/queues\/?$/.test(path)) return { page: 'queues' };
  return { page: 'jobs', search: new URLSearchParams(search) };
}

export const href = (path: string): string => `${BASE}${path}`;

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', href(path));
  else history.pushState(null, '', href(path));
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname, location.search));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname, location.search));
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}
