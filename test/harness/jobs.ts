/**
 * Jobs as a client of the gateway sees them: submit one, then wait until it gets where the test wants it. The
 * shapes are the gateway's own (its DTO in, its view out), so a change to the API shows up here at type-check.
 */
import type { CreateJobDto } from '../../apps/gateway/src/jobs/dto/create-job.dto.js';
import { FINAL_STATES, isFinal, type JobState, type JobView } from '../../apps/gateway/src/job-model/job.model.js';
import { waitFor } from '../../libs/testing/src/index.js';
import type { Client } from './http.js';

/** A job as `GET /jobs/:id` shows it, its result typed as the test expects it (the API leaves it open). */
export type Job<Result = Record<string, unknown>> = Omit<JobView, 'result'> & { result: Result | null };

/** The body of `POST /jobs` for one job. */
export type JobRequest = CreateJobDto;

/** `POST /jobs` as the client's principal; the job must be new (202). Returns it as the gateway answered. */
export async function submitJob(client: Client, request: JobRequest): Promise<Job> {
  const reply = await client.post<Job>('/jobs', request);
  // the body beside the status, so that a refusal says why
  expect({ status: reply.status, body: reply.body }).toMatchObject({ status: 202 });
  return reply.body;
}

export interface WaitForJobOptions {
  /** 60 s unless said: a saga of 1,000 subtasks on a loaded 2-core machine takes a while. */
  timeoutMs?: number;
  /** What the test waits for, for the timeout error (e.g. "the merge to start"). */
  what?: string;
}

/**
 * Reads `GET /jobs/:id` as the client's principal until the job is in one of `condition`'s states, or `condition` says
 * it is done; returns the job as last read. Waiting for states (by default: any final state) fails at once when the job
 * ends in another, saying how, and so does an answer other than 200: neither will change by waiting.
 */
export async function waitForJob<Result = Record<string, unknown>>(
  client: Client,
  id: string,
  condition: JobState | readonly JobState[] | ((job: Job<Result>) => boolean) = FINAL_STATES,
  options: WaitForJobOptions = {},
): Promise<Job<Result>> {
  const states = typeof condition === 'function' ? undefined : typeof condition === 'string' ? [condition] : condition;
  const done = typeof condition === 'function' ? condition : (job: Job<Result>) => states!.includes(job.state);
  const what = options.what ?? `job ${id} to be ${states ? states.join(' or ') : 'done'}`;
  let last: Job<Result> | undefined;
  const reply = await waitFor(
    async () => {
      const reply = await client.get<Job<Result>>(`/jobs/${id}`);
      if (reply.status !== 200) return reply;
      last = reply.body;
      return (done(last) || (states !== undefined && isFinal(last.state))) && reply;
    },
    () => `${what} (the job is ${last ? `${last.state}, "${last.progress.message}"` : 'not read yet'})`,
    { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 50 },
  );
  if (reply.status !== 200) throw new Error(`GET /jobs/${id} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  if (!done(reply.body)) throw new Error(`job ${id} ended ${reply.body.state} ${JSON.stringify(reply.body.error)} while the test waited for ${what}`);
  return reply.body;
}
