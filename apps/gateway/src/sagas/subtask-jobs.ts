import { randomUUID } from 'node:crypto';
import { commandEnvelope, fingerprint, type SagaPolicyName } from '#shared';
import { TooManySubtasksError, UnknownJobTypeError } from '../job-model/job.errors.js';
import { JOB_TYPE_NAMES, JOB_TYPES, type Subtask } from '../job-model/job-types.js';
import type { NewJob } from '../job-model/job.model.js';

/** Where a saga's subtasks come from: the request or fan-out that declared them. */
export interface SubtaskOrigin {
  /** Subtasks the whole request (or fan-out) may still declare, over all its jobs and levels; spent here. */
  budget: { left: number };
  /** Where in the request the declaration is, for the errors (`[2].`, `fanout.`, `merge.`). */
  path: string;
  maxSubtasks: number;
  /** The message that caused the declaration (a fan-out, the event that settled a saga); null for a request from outside. */
  causationId: string | null;
}

/**
 * The `saga` a parent stores, from what a request or a fan-out declared: the policy (all-settled unless named) and
 * the deadline, when one was given.
 */
export const sagaOptions = (declared: { policy?: SagaPolicyName; deadlineSeconds?: number } | undefined): Record<string, unknown> => ({
  policy: declared?.policy ?? 'all-settled',
  ...(declared?.deadlineSeconds ? { deadlineSeconds: declared.deadlineSeconds } : {}),
});

/**
 * The jobs of a saga parent's subtasks (or of its merge step), and of theirs in turn: a subtask may fan out
 * too. Their inputs come from the parent's validated input, so they are not validated again; identical inputs
 * are fingerprinted once. 10,000 subtasks cost little to prepare.
 */
export function subtaskJobs(owner: string, parent: Pick<NewJob, 'id' | 'saga'>, subtasks: Subtask[], origin: SubtaskOrigin): NewJob[] {
  const { budget, path, maxSubtasks, causationId } = origin;
  budget.left -= subtasks.length;
  if (budget.left < 0) throw new TooManySubtasksError([`${path}input declares more than ${maxSubtasks} subtasks in all (over every job of the request)`]);
  const fingerprints = new Map<string, string>();
  return subtasks.map((subtask) => {
    const type = JOB_TYPES[subtask.type];
    if (!type) throw new UnknownJobTypeError([`${path}subtask type must be one of: ${JOB_TYPE_NAMES.join(', ')}`]);
    const id = randomUUID();
    const key = JSON.stringify(subtask.input);
    const inputFingerprint = fingerprints.get(key) ?? fingerprint(subtask.input);
    fingerprints.set(key, inputFingerprint);
    const below = type.subtasks?.(subtask.input) ?? [];
    const command = below.length > 0 ? null : type.command(id, subtask.input);
    const child: NewJob = {
      id,
      type: subtask.type,
      input: subtask.input,
      inputFingerprint,
      idempotencyKey: null,
      followups: {},
      saga: below.length > 0 ? { policy: parent.saga?.policy ?? 'all-settled' } : null,
      owner,
      parentId: parent.id,
      ckan: null,
      command: command && commandEnvelope(command.key, command.payload, { correlationId: id, causationId }),
    };
    if (below.length > 0) {
      child.subtasks = subtaskJobs(owner, child, below, origin);
      child.merge = type.merge?.(subtask.input) ?? undefined;
    }
    return child;
  });
}
