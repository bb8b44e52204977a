import { useEffect, useRef, useState } from 'preact/hooks';
import { jobs as jobsApi, JOB_STATES, streamEvents, type Job, type JobFilter } from '../api';
import { Alert, formatTime, Link, percentOf, ProgressBar, shortId, StateBadge } from '../components';
import { navigate } from '../router';

const PAGE_SIZE = 50;
const KNOWN_TYPES = ['geo.preview', 'export.layers', 'export.dataset', 'export.convert', 'package.build', 'analytics.track', 'noop'];

/** The filter as the query string holds it, so that a filtered list can be bookmarked and shared. */
function filterOf(search: URLSearchParams): JobFilter & { page: number } {
  const get = (name: string) => search.get(name) ?? undefined;
  return {
    q: get('q'),
    state: get('state'),
    type: get('type'),
    owner: get('owner'),
    createdFrom: get('createdFrom'),
    createdTo: get('createdTo'),
    page: Math.max(0, Number(search.get('page') ?? 0) || 0),
  };
}

function searchOf(filter: JobFilter & { page?: number }): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(filter)) if (value !== undefined && value !== '' && value !== 0) search.set(name, String(value));
  const text = search.toString();
  return text ? `/?${text}` : '/';
}

/** A datetime-local value (local time, no zone) as an ISO instant, for the API. */
const isoOf = (local: string | undefined): string | undefined => (local ? new Date(local).toISOString() : undefined);

interface Pending {
  action: 'cancel' | 'retry';
  matched: number;
}

export function JobsPage({ search, canChange }: { search: URLSearchParams; canChange: boolean }) {
  const filter = filterOf(search);
  const apiFilter: JobFilter = { ...filter, createdFrom: isoOf(filter.createdFrom), createdTo: isoOf(filter.createdTo) };
  delete (apiFilter as { page?: number }).page;
  const key = JSON.stringify(apiFilter);

  const [rows, setRows] = useState<Job[] | null>(null);
  const [total, setTotal] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [tick, setTick] = useState(0);
  const reloadTimer = useRef<number | undefined>(undefined);

  useEffect(() => {
    const controller = new AbortController();
    Promise.all([jobsApi.list(apiFilter, PAGE_SIZE, filter.page * PAGE_SIZE, controller.signal), jobsApi.count(apiFilter, controller.signal)])
      .then(([listed, counted]) => {
        setRows(listed);
        setTotal(counted.count);
        setError(null);
      })
      .catch((failure: Error) => {
        if (!controller.signal.aborted) setError(failure.message);
      });
    return () => controller.abort();
  }, [key, filter.page, tick]);

  // Live: any job's change makes the page read itself again, at most once a second.
  useEffect(() => {
    const controller = new AbortController();
    streamEvents(
      '/jobs/changes',
      (type) => {
        if (type !== 'changed' || reloadTimer.current !== undefined) return;
        reloadTimer.current = window.setTimeout(() => {
          reloadTimer.current = undefined;
          setTick((value) => value + 1);
        }, 1_000);
      },
      controller.signal,
    );
    return () => {
      controller.abort();
      window.clearTimeout(reloadTimer.current);
      reloadTimer.current = undefined;
    };
  }, []);

  const apply = (changes: Partial<JobFilter>) => navigate(searchOf({ ...filter, ...changes, page: 0 }));

  const act = async (job: Job, action: 'cancel' | 'retry') => {
    setBusy(true);
    try {
      const result = action === 'cancel' ? await jobsApi.cancel(job.id) : await jobsApi.retry(job.id);
      setMessage(action === 'cancel' ? `Cancelled job ${shortId(job.id)}.` : `Retried job ${shortId(job.id)} as job ${shortId(result.id)}.`);
      setTick((value) => value + 1);
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const askBulk = async (action: 'cancel' | 'retry') => {
    setBusy(true);
    try {
      const { matched } = await jobsApi.bulk(action, apiFilter, true);
      setPending({ action, matched });
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const confirmBulk = async () => {
    if (!pending) return;
    setBusy(true);
    try {
      const { done, matched } = await jobsApi.bulk(pending.action, apiFilter, false);
      setMessage(`${pending.action === 'cancel' ? 'Cancelled' : 'Retried'} ${done} of ${matched} matching jobs.`);
      setPending(null);
      setTick((value) => value + 1);
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const describe = (action: 'cancel' | 'retry', matched: number): string => {
    const states = filter.state ? filter.state : action === 'cancel' ? 'queued or running' : 'failed or cancelled';
    return `${action === 'cancel' ? 'Cancel' : 'Retry'} ${matched} ${states} ${filter.type ?? ''} job${matched === 1 ? '' : 's'}?`.replace(/\s+/g, ' ');
  };

  const first = filter.page * PAGE_SIZE;
  return (
    <section aria-labelledby="jobs-title">
      <h1 id="jobs-title">Jobs</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          const data = new FormData(event.currentTarget);
          const value = (name: string) => (data.get(name) as string | null)?.trim() || undefined;
          apply({
            q: value('q'),
            state: value('state'),
            type: value('type'),
            owner: value('owner'),
            createdFrom: value('createdFrom'),
            createdTo: value('createdTo'),
          });
        }}
      >
        <label class="wide">
          Search
          <input
            name="q"
            type="search"
            placeholder="job id, dataset or resource id, any text of the input"
            defaultValue={filter.q ?? ''}
            key={`q${filter.q}`}
          />
        </label>
        <label>
          State
          <select
            name="state"
            defaultValue={filter.state ?? ''}
            key={`s${filter.state}`}
            onChange={(event) => apply({ state: event.currentTarget.value || undefined })}
          >
            <option value="">any</option>
            {JOB_STATES.map((state) => (
              <option value={state}>{state}</option>
            ))}
          </select>
        </label>
        <label>
          Type
          <input name="type" list="job-types" defaultValue={filter.type ?? ''} key={`t${filter.type}`} />
          <datalist id="job-types">
            {KNOWN_TYPES.map((type) => (
              <option value={type} />
            ))}
          </datalist>
        </label>
        <label>
          Owner
          <input name="owner" defaultValue={filter.owner ?? ''} key={`o${filter.owner}`} />
        </label>
        <label>
          From
          <input name="createdFrom" type="datetime-local" defaultValue={filter.createdFrom ?? ''} key={`f${filter.createdFrom}`} />
        </label>
        <label>
          To
          <input name="createdTo" type="datetime-local" defaultValue={filter.createdTo ?? ''} key={`u${filter.createdTo}`} />
        </label>
        <div class="filter-buttons">
          <button type="submit">Apply</button>
          <button type="button" class="secondary" onClick={() => navigate('/')}>
            Clear
          </button>
        </div>
      </form>

      {canChange && (
        <div class="bulk" aria-label="Bulk actions">
          <button type="button" class="secondary" disabled={busy} onClick={() => void askBulk('cancel')}>
            Cancel all matching…
          </button>
          <button type="button" class="secondary" disabled={busy} onClick={() => void askBulk('retry')}>
            Retry all matching…
          </button>
        </div>
      )}
      {pending && (
        <div class="confirm" role="alertdialog" aria-labelledby="bulk-question">
          <p id="bulk-question">{pending.matched === 0 ? `No job matches: nothing to ${pending.action}.` : describe(pending.action, pending.matched)}</p>
          {pending.matched > 0 && (
            <button type="button" class="danger" disabled={busy} autoFocus onClick={() => void confirmBulk()}>
              {pending.action === 'cancel' ? 'Cancel' : 'Retry'} {pending.matched} jobs
            </button>
          )}
          <button type="button" class="secondary" onClick={() => setPending(null)}>
            {pending.matched === 0 ? 'Close' : 'Keep them'}
          </button>
        </div>
      )}
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      {error && <Alert>{error}</Alert>}

      <p class="count" aria-live="polite">
        {total === null ? 'Loading…' : total === 0 ? 'No jobs match.' : `${first + 1}–${first + (rows?.length ?? 0)} of ${total.toLocaleString()} jobs`}
      </p>
      <div class="table-scroll">
        <table class="jobs">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Type</th>
              <th scope="col">State</th>
              <th scope="col" class="progress-col">
                Progress
              </th>
              <th scope="col">Owner</th>
              <th scope="col">Created</th>
              {canChange && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {rows?.map((job) => (
              <tr key={job.id} data-job-id={job.id}>
                <td>
                  <Link to={`/jobs/${job.id}`}>
                    <code>{shortId(job.id)}</code>
                  </Link>
                </td>
                <td>{job.type}</td>
                <td>
                  <StateBadge state={job.state} />
                </td>
                <td>
                  <ProgressBar percent={percentOf(job)} state={job.state} label={`Progress of job ${shortId(job.id)}`} />
                  {job.progress.message && job.state === 'running' && <span class="progress-message">{job.progress.message}</span>}
                </td>
                <td>{job.owner}</td>
                <td>{formatTime(job.createdAt)}</td>
                {canChange && (
                  <td class="actions">
                    {(job.state === 'queued' || job.state === 'running') && (
                      <button
                        type="button"
                        class="small danger"
                        disabled={busy}
                        onClick={() => void act(job, 'cancel')}
                        aria-label={`Cancel job ${shortId(job.id)}`}
                      >
                        Cancel
                      </button>
                    )}
                    {(job.state === 'failed' || job.state === 'cancelled') && !job.parentId && (
                      <button type="button" class="small" disabled={busy} onClick={() => void act(job, 'retry')} aria-label={`Retry job ${shortId(job.id)}`}>
                        Retry
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages">
        <button type="button" class="secondary" disabled={filter.page === 0} onClick={() => navigate(searchOf({ ...filter, page: filter.page - 1 }))}>
          Previous
        </button>
        <span>Page {filter.page + 1}</span>
        <button
          type="button"
          class="secondary"
          disabled={total === null || first + PAGE_SIZE >= total}
          onClick={() => navigate(searchOf({ ...filter, page: filter.page + 1 }))}
        >
          Next
        </button>
      </nav>
    </section>
  );
}
