import type { JobState } from '../job-model/job.model.js';

/** Which jobs a list, a count or a bulk action is about: the dashboard's filters and search box. */
export interface JobFilter {
  state?: JobState;
  type?: string;
  /** Exact owner; set by the service to the caller's name for those who may see only their own jobs. */
  owner?: string;
  /** List this saga's subtasks instead of top-level jobs. */
  parentId?: string;
  /** Created at or after / before these instants. */
  createdFrom?: Date;
  createdTo?: Date;
  /**
   * A job id, or any text of the input (a dataset or resource id, a URL, a file name), case-insensitive. With a
   * search, jobs at every level match: the subtask that handled a resource is as much an answer as its saga.
   */
  q?: string;
  /** Top-level jobs only, even with a search (what a bulk retry may act on: a subtask is retried with its saga). */
  topLevelOnly?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `text` as a LIKE pattern matching it anywhere, its own `%`, `_` and `\` taken literally. */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/**
 * The WHERE clause (and its parameters, from `$1`) of a filter over jobs.jobs. Written so that the planner can use the
 * dashboard's indexes: `parent_id IS NULL` literally (the partial index of top-level jobs), and `input::text ILIKE` as
 * the trigram index's expression reads.
 */
export function jobFilterSql(filter: JobFilter): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.state) conditions.push(`state = ${param(filter.state)}`);
  if (filter.type) conditions.push(`type = ${param(filter.type)}`);
  if (filter.owner) conditions.push(`owner = ${param(filter.owner)}`);
  if (filter.createdFrom) conditions.push(`created_at >= ${param(filter.createdFrom)}`);
  if (filter.createdTo) conditions.push(`created_at < ${param(filter.createdTo)}`);
  const q = filter.q?.trim();
  if (filter.parentId) conditions.push(`parent_id = ${param(filter.parentId)}::uuid`);
  else if (!q || filter.topLevelOnly) conditions.push('parent_id IS NULL');
  if (q) {
    const text = `input::text ILIKE ${param(containsPattern(q))}`;
    conditions.push(UUID.test(q) ? `(id = ${param(q.toLowerCase())}::uuid OR ${text})` : text);
  }
  return { where: conditions.length > 0 ? conditions.join(' AND ') : 'TRUE', params };
}
