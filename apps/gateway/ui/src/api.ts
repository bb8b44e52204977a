/** The gateway's API as the dashboard calls it: JSON over fetch with the session's bearer token, kept in memory only. */

export type Role = 'admin' | 'portal' | 'reader';
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'expired';
export const JOB_STATES: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired'];

export interface Session {
  token: string;
  username: string;
  role: Role;
  expiresAt: number;
}

export interface JobError {
  type: string;
  class: string;
  message: string;
}

export interface Job {
  id: string;
  type: string;
  state: JobState;
  progress: { current: number; total: number; message: string };
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: JobError | null;
  parentId: string | null;
  children: { total: number; byState: Partial<Record<JobState, number>>; percent: number; jobs?: { id: string; type: string; state: JobState }[] } | null;
  followups: Record<string, unknown>;
  followupRuns?: {
    outcome: string;
    index: number;
    type: string;
    state: string;
    attempts: number;
    lastStatus: number | null;
    lastError: string | null;
    updatedAt: string;
  }[];
  history?: { transitions: { state: JobState; at: string }[]; retryOf: string | null; retries: string[] };
  owner: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  expiresAt: string | null;
}

export interface TreeNode {
  id: string;
  type: string;
  state: JobState;
  progress: { current: number; total: number; message: string };
  error: JobError | null;
  children: TreeNode[];
}

export interface Layer {
  layerId: string;
  /** `BOX(xmin ymin,xmax ymax)` as PostGIS prints ST_Extent; null for an empty layer. */
  bounding_box: string | null;
  layer_fields: { field_name: string; data_type: string }[];
  featureCount: number;
  geometryType: string;
  srid: number;
  /** URL template of the vector tiles, relative to the gateway. */
  tiles: string;
}

/** The bounding box of a layer as [west, south, east, north]. */
export function bboxOf(box: string | null): [number, number, number, number] | null {
  const match = box ? /^BOX\((\S+) (\S+),(\S+) (\S+)\)$/.exec(box) : null;
  if (!match) return null;
  const [west, south, east, north] = match.slice(1).map(Number);
  return [west, south, east, north];
}

export interface QueueInfo {
  name: string;
  deadLetterOf: string | null;
  messages: number;
  ready: number;
  unacked: number;
  consumers: number;
  rates: { publish: number; deliver: number; ack: number };
}

export interface DeadLetter {
  messageId: string | null;
  type: string | null;
  reason: string | null;
  error: string | null;
  attempts: number | null;
  deadLetteredAt: string | null;
  originalQueue: string;
  originalRoutingKey: string | null;
  payload: string;
}

export interface JobFilter {
  state?: string;
  type?: string;
  owner?: string;
  q?: string;
  createdFrom?: string;
  createdTo?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let session: Session | null = null;
let onExpired: () => void = () => undefined;

export const currentSession = (): Session | null => session;

/** What the app does when the gateway says the token is no longer good (401): back to the login form. */
export function whenSessionExpires(handler: () => void): void {
  onExpired = handler;
}

/** The role and name in the token's claims: what the dashboard shows and hides (the gateway checks them itself). */
function claimsOf(token: string): { sub: string; role: Role } {
  const payload = token.split('.')[1] ?? '';
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(json) as { sub: string; role: Role };
}

export async function login(username: string, password: string): Promise<Session> {
  const response = await fetch('/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (!response.ok) throw new ApiError(response.status, response.status === 401 ? 'Wrong username or password.' : await messageOf(response));
  const body = (await response.json()) as { access_token: string; expires_in: number };
  const claims = claimsOf(body.access_token);
  session = { token: body.access_token, username: claims.sub, role: claims.role, expiresAt: Date.now() + body.expires_in * 1_000 };
  return session;
}

export function logout(): void {
  session = null;
}

async function messageOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { message?: string | string[] };
    return Array.isArray(body.message) ? body.message.join('; ') : (body.message ?? response.statusText);
  } catch {
    return response.statusText;
  }
}

export async function api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, {
    method,
    signal,
    headers: {
      ...(session ? { authorization: `Bearer ${session.token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && session) {
    session = null;
    onExpired();
  }
  if (!response.ok) throw new ApiError(response.status, await messageOf(response));
  return (await response.json()) as T;
}

export const query = (params: Record<string, string | number | undefined>): string => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
};

/**
 * Server-sent events read with fetch (EventSource cannot send the Authorization header): calls `onEvent` with each
 * event's type and data until `signal` aborts or the stream ends; then reconnects after a pause unless aborted.
 */
export function streamEvents(path: string, onEvent: (type: string, data: string) => void, signal: AbortSignal): void {
  const run = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        const response = await fetch(path, { signal, headers: session ? { authorization: `Bearer ${session.token}`, accept: 'text/event-stream' } : {} });
        if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let type = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) type = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
            }
            onEvent(type, data.join('\n'));
          }
        }
        if (streamEnds(path)) return;
      } catch {
        if (signal.aborted) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  };
  void run();
}

/** A job's own stream ends at its final state: no reconnecting then. */
const streamEnds = (path: string): boolean => /\/jobs\/[^/]+\/events$/.test(path);

export const jobs = {
  list: (filter: JobFilter, limit: number, offset: number, signal?: AbortSignal) =>
    api<Job[]>('GET', `/jobs${query({ ...filter, limit, offset })}`, undefined, signal),
  count: (filter: JobFilter, signal?: AbortSignal) => api<{ count: number }>('GET', `/jobs/count${query({ ...filter })}`, undefined, signal),
  get: (id: string) => api<Job>('GET', `/jobs/${id}`),
  tree: (id: string) => api<TreeNode>('GET', `/jobs/${id}/tree`),
  cancel: (id: string) => api<Job>('POST', `/jobs/${id}/cancel`),
  retry: (id: string) => api<Job>('POST', `/jobs/${id}/retry`),
  bulk: (action: 'cancel' | 'retry', filter: JobFilter, dryRun: boolean) =>
    api<{ action: string; matched: number; done: number }>('POST', `/jobs/bulk/${action}`, { ...compact(filter), dryRun }),
};

const compact = (filter: JobFilter): JobFilter => Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined && value !== ''));

export const queues = {
  list: () => api<{ vhost: string; managementUi: string | null; queues: QueueInfo[] }>('GET', '/queues'),
  deadLetters: (queue: string) => api<DeadLetter[]>('GET', `/queues/${queue}/dead-letters?limit=100`),
  replay: (queue: string, messageId?: string) => api<{ replayed: number }>('POST', `/queues/${queue}/dead-letters/replay`, messageId ? { messageId } : {}),
  discard: (queue: string, messageId?: string) => api<{ discarded: number }>('POST', `/queues/${queue}/dead-letters/discard`, messageId ? { messageId } : {}),
};

export const layers = {
  get: (id: string) => api<Layer>('GET', `/layers/${encodeURIComponent(id)}`),
};
