import { setTimeout as sleep } from 'node:timers/promises';
import type { Envelope } from '../contracts/envelope.js';
import type { NoopCommandV1 } from '../contracts/job.commands.js';
import type { JobReporter } from './job-reporter.js';

const PROGRESS_STEPS = 4;

/**
 * The `noop` job every service runs: sleeps, then fans out, fails with the given message or succeeds. It goes through
 * the same lifecycle events as real work, so it checks a service end to end.
 */
export async function runNoop(command: Envelope<NoopCommandV1>, reporter: JobReporter, signal?: AbortSignal): Promise<void> {
  const { sleepMs = 0, fail, fanout } = command.payload;
  await reporter.started(command);
  if (sleepMs > 0) {
    // in steps, reporting progress, so a noop also exercises progress streams
    const steps = Math.min(PROGRESS_STEPS, Math.max(1, Math.floor(sleepMs / 50)));
    for (let step = 1; step <= steps; step++) {
      await sleep(sleepMs / steps, undefined, { signal });
      if (step < steps) await reporter.progress(command, step, steps, `slept ${step} of ${steps} parts`);
    }
  }
  if (fanout) {
    const { children, failChildren = 0, merge, mergeAlways, childSleepMs, deadlineSeconds } = fanout;
    const service = reporter.service;
    const child = { service, ...(childSleepMs ? { sleepMs: childSleepMs } : {}) };
    await reporter.fanout(command, {
      subtasks: Array.from({ length: children }, (_, index) => ({ type: 'noop', input: { ...child, ...(index < failChildren ? { fail: `subtask ${index + 1} failed` } : {}) } })),
      ...(merge || mergeAlways ? { merge: { type: 'noop', input: { service }, ...(mergeAlways ? { always: true } : {}) } } : {}),
      ...(deadlineSeconds ? { deadlineSeconds } : {}),
    });
    return;
  }
  if (fail !== undefined) {
    await reporter.failed(command, { type: 'noop', class: 'NoopFailure', message: fail });
    return;
  }
  await reporter.succeeded(command, { sleptMs: sleepMs });
}
