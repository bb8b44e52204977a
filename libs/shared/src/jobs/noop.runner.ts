import { setTimeout as sleep } from 'node:timers/promises';
import type { Envelope } from '../contracts/envelope.js';
import type { NoopCommandV1 } from '../contracts/job.commands.js';
import type { JobReporter } from './job-reporter.js';

/**
 * The `noop` job every service runs: sleeps, then fails with the given message or succeeds. It goes through
 * the same lifecycle events as real work, so it checks a service end to end.
 */
export async function runNoop(command: Envelope<NoopCommandV1>, reporter: JobReporter): Promise<void> {
  const { sleepMs = 0, fail } = command.payload;
  await reporter.started(command);
  if (sleepMs > 0) await sleep(sleepMs);
  if (fail !== undefined) {
    await reporter.failed(command, { type: 'noop', class: 'NoopFailure', message: fail });
    return;
  }
  await reporter.succeeded(command, { sleptMs: sleepMs });
}
