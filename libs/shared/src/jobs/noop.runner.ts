import { setTimeout as sleep } from 'node:timers/promises';
import type { NoopCommandV1 } from '../contracts/job.commands.js';
import { fanOut, JobFailure, type JobContext, type JobOutcome } from './worker.js';

const PROGRESS_STEPS = 4;

/**
 * The `noop` job every service runs: sleeps, then fans out, fails with the given message or succeeds. It goes through
 * the same lifecycle events as real work, so it checks a service end to end.
 */
export async function runNoop(command: NoopCommandV1, job: JobContext): Promise<JobOutcome> {
  const { sleepMs = 0, fail, fanout } = command;
  if (sleepMs > 0) {
    // in steps, reporting progress, so a noop also exercises progress streams
    const steps = Math.min(PROGRESS_STEPS, Math.max(1, Math.floor(sleepMs / 50)));
    for (let step = 1; step <= steps; step++) {
      await sleep(sleepMs / steps, undefined, { signal: job.signal });
      if (step < steps) await job.progress(step, steps, `slept ${step} of ${steps} parts`);
    }
  }
  if (fanout) {
    const { children, failChildren = 0, merge, mergeAlways, childSleepMs, deadlineSeconds } = fanout;
    const { service } = job;
    const child = { service, ...(childSleepMs ? { sleepMs: childSleepMs } : {}) };
    return fanOut({
      subtasks: Array.from({ length: children }, (_, index) => ({
        type: 'noop',
        input: { ...child, ...(index < failChildren ? { fail: `subtask ${index + 1} failed` } : {}) },
      })),
      ...(merge || mergeAlways ? { merge: { type: 'noop', input: { service }, ...(mergeAlways ? { always: true } : {}) } } : {}),
      ...(deadlineSeconds ? { deadlineSeconds } : {}),
    });
  }
  if (fail !== undefined) throw new JobFailure({ type: 'noop', class: 'NoopFailure', message: fail });
  return { sleptMs: sleepMs };
}
