import type { ComponentChildren } from 'preact';
import type { Job, JobState } from './api';
import { href, navigate } from './router';

/** A link inside the app: a real href (open in a new tab works), followed without reloading the page. */
export function Link({ to, children, class: className }: { to: string; children: ComponentChildren; class?: string }) {
  return (
    <a
      href={href(to)}
      class={className}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export function StateBadge({ state }: { state: JobState }) {
  return <span class={`state state-${state}`}>{state}</span>;
}

/** How far a job is, 0–100: a saga by its settled subtasks, other jobs by their reported progress; 100 once succeeded. */
export function percentOf(job: Pick<Job, 'state' | 'progress' | 'children'>): number {
  if (job.state === 'succeeded') return 100;
  if (job.children && job.children.total > 0) return job.children.percent;
  const { current, total } = job.progress;
  return total > 0 ? Math.min(100, Math.round((current / total) * 100)) : 0;
}

export function ProgressBar({ percent, state, label }: { percent: number; state: JobState; label: string }) {
  return (
    <div
      class={`progress progress-${state}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      data-state={state}
    >
      <div class="progress-fill" style={{ width: `${percent}%` }} />
      <span class="progress-text">{state === 'running' || state === 'queued' ? `${percent}%` : state === 'succeeded' ? 'done' : state}</span>
    </div>
  );
}

export const shortId = (id: string): string => id.slice(0, 8);

export function formatTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '—';
}

export function duration(from: string | null, to: string | null): string {
  if (!from) return '—';
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}

export function Alert({ children }: { children: ComponentChildren }) {
  return (
    <p class="alert" role="alert">
      {children}
    </p>
  );
}
