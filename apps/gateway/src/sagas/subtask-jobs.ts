import { randomUUID } from 'node:crypto';
import { BadRequestException } from '@nestjs/common';
import { commandEnvelope, currentCorrelation, fingerprint } from '#shared';
import { JOB_TYPE_NAMES, JOB_TYPES, type Subtask } from '../jobs/job-types.js';
import type { NewJob } from '../jobs/jobs.repository.js';

/**
 * The jobs of a saga parent's subtasks (or of its merge step), and of theirs in turn: a subtask may fan out
 * too. Their inputs come from the parent's validated input, so they are not validated again; identical inputs
 * are fingerprinted once. 10,000 subtasks cost little to prepare. `budget` caps the subtasks of a request.
 */
export function subtaskJobs(
  owner: string,
  parent: Pick<NewJob, 'id' | 'saga'>,
  subtasks: Subtask[],
  budget: { left: number },
  path: string,
  maxSubtasks: number,
): NewJob[] {
  budget.left -= subtasks.length;
  if (budget.left < 0) throw new BadRequestException([`${path}input declares more than ${maxSubtasks} subtasks in all (over every job of the request)`]);
  const fingerprints = new Map<string, string>();
  const causationId = currentCorrelation()?.correlationId;
  return subtasks.map((subtask) => {
    const type = JOB_TYPES[subtask.type];
    if (!type) throw new BadRequestException([`${path}subtask type must be one of: ${JOB_TYPE_NAMES.join(', ')}`]);
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
      child.subtasks = subtaskJobs(owner, child, below, budget, path, maxSubtasks);
      child.merge = type.merge?.(subtask.input) ?? undefined;
    }
    return child;
  });
}
