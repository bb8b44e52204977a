import type { JobError, JobState } from '../job-model/job.model.js';
import type { TreeRow } from './sagas.repository.js';

/** A job of a saga tree: its state, progress, error and the same for everything below it. */
export interface JobTreeNode {
  id: string;
  type: string;
  state: JobState;
  progress: { current: number; total: number; message: string };
  error: JobError | null;
  children: JobTreeNode[];
}

/** Nests the rows of SagasRepository.tree (root first, parents before children) under their parents. */
export function toTree(rows: TreeRow[]): JobTreeNode {
  const nodes = new Map<string, JobTreeNode>();
  let root: JobTreeNode | undefined;
  for (const row of rows) {
    const node: JobTreeNode = {
      id: row.id,
      type: row.type,
      state: row.state,
      progress: { current: row.progress_current, total: row.progress_total, message: row.progress_message },
      error: row.error,
      children: [],
    };
    if (!root) {
      root = node; // the first row is the job asked for
      nodes.set(row.id, node);
      continue;
    }
    const parent = row.parent_id ? nodes.get(row.parent_id) : undefined;
    if (!parent) continue; // its parent was beyond the size cap
    parent.children.push(node);
    nodes.set(row.id, node);
  }
  if (!root) throw new Error('a job tree needs its root row');
  return root;
}
