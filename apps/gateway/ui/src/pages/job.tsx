import { useEffect, useRef, useState } from 'preact/hooks';
import { jobs as jobsApi, streamEvents, type Job, type JobState, type TreeNode } from '../api';
import { Alert, duration, formatTime, Link, percentOf, ProgressBar, shortId, StateBadge } from '../components';
import { navigate } from '../router';

/** Every `layerId` named anywhere in a result (one layer, several, or a saga's merge of them). */
function layerIdsOf(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) layerIdsOf(item, found);
  else if (value && typeof value === 'object') {
    for (const [name, item] of Object.entries(value)) {
      if (name === 'layerId' && typeof item === 'string') found.add(item);
      else layerIdsOf(item, found);
    }
  }
  return found;
}

/** Counts by state of every job below the root, at every level. */
function countsOf(node: TreeNode, counts: Partial<Record<JobState, number>> = {}): Partial<Record<JobState, number>> {
  for (const child of node.children) {
    counts[child.state] = (counts[child.state] ?? 0) + 1;
    countsOf(child, counts);
  }
  return counts;
}

const STATE_ORDER: JobState[] = ['failed', 'cancelled', 'running', 'queued', 'succeeded', 'expired'];

function TreeItem({ node, depth }: { node: TreeNode; depth: number }) {
  const [open, setOpen] = useState(depth < 1 || node.children.some((child) => child.state === 'failed'));
  const hasChildren = node.children.length > 0;
  return (
    <li role="treeitem" aria-expanded={hasChildren ? open : undefined} aria-level={depth + 1} data-state={node.state} class={`tree-item tree-${node.state}`}>
      <div class="tree-row">
        {hasChildren ? (
          <button type="button" class="toggle" aria-label={`${open ? 'Collapse' : 'Expand'} ${node.type} ${shortId(node.id)}`} onClick={() => setOpen(!open)}>
            {open ? '▾' : '▸'}
          </button>
        ) : (
          <span class="toggle-space" />
        )}
        <Link to={`/jobs/${node.id}`}>
          <code>{shortId(node.id)}</code>
        </Link>
        <span class="tree-type">{node.type}</span>
        <StateBadge state={node.state} />
        {hasChildren && <span class="tree-children">{node.children.length} subtasks</span>}
        {node.error && <span class="tree-error">{node.error.message}</span>}
      </div>
      {hasChildren && open && (
        <ul role="group">
          {node.children.map((child) => (
            <TreeItem key={child.id} node={child} depth={depth + 1} />
          ))}
        </ul>
      )}
    </li>
  );
}

function Json({ value }: { value: unknown }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function JobPage({ id, canChange }: { id: string; canChange: boolean }) {
  const [job, setJob] = useState<Job | null>(null);
  const [tree, setTree] = useState<TreeNode | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const treeTimer = useRef<number | undefined>(undefined);

  const loadTree = () =>
    jobsApi
      .tree(id)
      .then(setTree)
      .catch(() => undefined);

  useEffect(() => {
    setJob(null);
    setTree(null);
    setError(null);
    setMessage(null);
    jobsApi.get(id).then(
      (loaded) => {
        setJob(loaded);
        if (loaded.children) void loadTree();
      },
      (failure: Error) => setError(failure.message),
    );
    // Live: the job's own stream, until it ends; the tree is read again at most once a second as it changes.
    const controller = new AbortController();
    streamEvents(
      `/jobs/${id}/events`,
      (type, data) => {
        if (type !== 'job' && type !== 'end') return;
        // the stream carries the job without its history and followups: read them again at the end
        if (type === 'end') void jobsApi.get(id).then(setJob);
        else setJob((previous) => ({ ...(JSON.parse(data) as Job), history: previous?.history, followupRuns: previous?.followupRuns }));
        if (treeTimer.current === undefined) {
          treeTimer.current = window.setTimeout(() => {
            treeTimer.current = undefined;
            void loadTree();
          }, 1_000);
        }
      },
      controller.signal,
    );
    return () => {
      controller.abort();
      window.clearTimeout(treeTimer.current);
      treeTimer.current = undefined;
    };
  }, [id]);

  if (error && !job) return <Alert>{error}</Alert>;
  if (!job) return <p>Loading…</p>;

  const act = async (action: 'cancel' | 'retry') => {
    setBusy(true);
    setError(null);
    try {
      if (action === 'cancel') {
        setJob(await jobsApi.cancel(job.id));
        setMessage('Cancelled.');
      } else {
        const retried = await jobsApi.retry(job.id);
        setMessage(`Retried as job ${shortId(retried.id)}.`);
        navigate(`/jobs/${retried.id}`);
      }
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const layers = [...layerIdsOf(job.result)];
  const downloadUrl = typeof job.result?.downloadUrl === 'string' ? job.result.downloadUrl : null;
  const counts = tree ? countsOf(tree) : null;
  return (
    <article aria-labelledby="job-title">
      <p class="crumbs">
        <Link to="/">Jobs</Link>
        {job.parentId && (
          <>
            {' › '}
            <Link to={`/jobs/${job.parentId}`}>saga {shortId(job.parentId)}</Link>
          </>
        )}
      </p>
      <h1 id="job-title">
        {job.type} <code>{shortId(job.id)}</code> <StateBadge state={job.state} />
      </h1>
      <ProgressBar percent={percentOf(job)} state={job.state} label="Overall progress" />
      {job.progress.message && <p class="progress-message">{job.progress.message}</p>}
      {canChange && (
        <div class="actions">
          {(job.state === 'queued' || job.state === 'running') && (
            <button type="button" class="danger" disabled={busy} onClick={() => void act('cancel')}>
              Cancel job
            </button>
          )}
          {(job.state === 'failed' || job.state === 'cancelled') && !job.parentId && (
            <button type="button" disabled={busy} onClick={() => void act('retry')}>
              Retry job
            </button>
          )}
        </div>
      )}
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      {error && <Alert>{error}</Alert>}

      <div class="grid">
        <section aria-labelledby="timings">
          <h2 id="timings">Timings</h2>
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <code>{job.id}</code>
            </dd>
            <dt>Owner</dt>
            <dd>{job.owner}</dd>
            <dt>Created</dt>
            <dd>{formatTime(job.createdAt)}</dd>
            <dt>Started</dt>
            <dd>
              {formatTime(job.startedAt)} {job.startedAt && <span class="muted">(waited {duration(job.createdAt, job.startedAt)})</span>}
            </dd>
            <dt>Finished</dt>
            <dd>
              {formatTime(job.finishedAt)} {job.startedAt && <span class="muted">(ran {duration(job.startedAt, job.finishedAt)})</span>}
            </dd>
            {job.expiresAt && (
              <>
                <dt>Files expire</dt>
                <dd>{formatTime(job.expiresAt)}</dd>
              </>
            )}
            {job.history?.retryOf && (
              <>
                <dt>Retry of</dt>
                <dd>
                  <Link to={`/jobs/${job.history.retryOf}`}>{shortId(job.history.retryOf)}</Link>
                </dd>
              </>
            )}
            {job.history && job.history.retries.length > 0 && (
              <>
                <dt>Retried as</dt>
                <dd>
                  {job.history.retries.map((retry) => (
                    <Link key={retry} to={`/jobs/${retry}`}>
                      {shortId(retry)}{' '}
                    </Link>
                  ))}
                </dd>
              </>
            )}
          </dl>
        </section>
        <section aria-labelledby="states">
          <h2 id="states">State changes</h2>
          <ol class="transitions">
            {job.history?.transitions.map((transition) => (
              <li>
                <StateBadge state={transition.state} /> {formatTime(transition.at)}
              </li>
            ))}
          </ol>
        </section>
      </div>

      {job.error && (
        <section aria-labelledby="error">
          <h2 id="error">Error</h2>
          <p class="error-text">
            <strong>{job.error.class || job.error.type}</strong>: {job.error.message}
          </p>
        </section>
      )}

      {tree && tree.children.length > 0 && counts && (
        <section aria-labelledby="saga">
          <h2 id="saga">Saga: {tree.children.length} subtasks</h2>
          <ul class="counts" aria-label="Subtasks by state">
            {STATE_ORDER.filter((state) => counts[state]).map((state) => (
              <li class={`count-${state}`} data-state={state}>
                <StateBadge state={state} /> {counts[state]}
              </li>
            ))}
          </ul>
          <ul class="tree" role="tree" aria-label="Subtasks">
            {tree.children.map((child) => (
              <TreeItem key={child.id} node={child} depth={0} />
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="result">
        <h2 id="result">Result</h2>
        {downloadUrl && (
          <p>
            <a href={downloadUrl} download>
              Download the result file
            </a>
          </p>
        )}
        {layers.length > 0 && (
          <ul class="layers">
            {layers.map((layer) => (
              <li>
                <Link to={`/layers/${layer}`}>Layer {layer} on a map</Link>
              </li>
            ))}
          </ul>
        )}
        {job.result ? <Json value={job.result} /> : <p class="muted">No result yet.</p>}
      </section>

      <section aria-labelledby="input">
        <h2 id="input">Input</h2>
        <Json value={job.input} />
      </section>

      <section aria-labelledby="followups">
        <h2 id="followups">Followups</h2>
        {Object.keys(job.followups).length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <>
            <Json value={job.followups} />
            {job.followupRuns && job.followupRuns.length > 0 && (
              <div class="table-scroll">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">On</th>
                      <th scope="col">Action</th>
                      <th scope="col">State</th>
                      <th scope="col">Attempts</th>
                      <th scope="col">Last status / error</th>
                      <th scope="col">Updated</th>
                    </tr>
                  </thead>
                  <tbody>
                    {job.followupRuns.map((run) => (
                      <tr>
                        <td>{run.outcome}</td>
                        <td>
                          #{run.index + 1} {run.type}
                        </td>
                        <td>{run.state}</td>
                        <td>{run.attempts}</td>
                        <td>{run.lastError ?? run.lastStatus ?? '—'}</td>
                        <td>{formatTime(run.updatedAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </section>
    </article>
  );
}
