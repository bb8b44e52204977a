import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { assertStorageKey, commandEnvelope, fingerprint, storageKeyOf } from '#shared';
import { canSeeAll, type Principal } from '../auth/principal.js';
import { validated } from '../common/request-validation.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import {
  JobAlreadyFinishedError,
  JobBatchSizeError,
  JobNotFoundError,
  JobNotRetryableError,
  ResultExpiredError,
  ResultFileNotFoundError,
  SubmissionContendedError,
  UnknownJobTypeError,
  UnknownBoundariesError,
  UnknownLayersError,
} from '../job-model/job.errors.js';
import { INTERNAL_JOB_TYPES, JOB_TYPE_NAMES, MAX_SUBTASKS, typedInput } from '../job-model/job-types.js';
import { toView, type CkanJobData, type JobRow, type JobView, type NewJob } from '../job-model/job.model.js';
import { OutboxRelay } from '../outbox/outbox.relay.js';
import { toTree, type JobTreeNode } from '../sagas/job-tree.js';
import { SagaCoordinator } from '../sagas/saga.coordinator.js';
import { SagasRepository } from '../sagas/sagas.repository.js';
import { sagaOptions, subtaskJobs, type SubtaskOrigin } from '../sagas/subtask-jobs.js';
import { CreateJobDto, type ListJobsQuery } from './dto/create-job.dto.js';
import type { JobFilterQuery } from './dto/job-filter.dto.js';
import type { JobFilter } from './job-filter.js';
import { retryRefusal, retryRequest, type BulkAction, type BulkOutcome } from './job-retry.js';
import { JobsRepository } from './jobs.repository.js';
import { ResultLinks } from './result-links.js';

export const MAX_BULK_JOBS = 1_000;
/** Jobs one bulk cancel or retry acts on; the rest of a larger match is left for the next one. */
export const MAX_BULK_ACTION = 10_000;
/** Children listed by `GET /jobs/:id`; the tree endpoint shows them all. */
const MAX_LISTED_CHILDREN = 1_000;

const isJobId = (id: string): boolean => /^[0-9a-f-]{36}$/i.test(id);

/** A principal sees its own jobs, and every job when its role lets it. */
const canSee = (principal: Principal, row: JobRow): boolean => canSeeAll(principal) || row.owner === principal.name;

/** A job a caller may submit through POST /jobs: not one of the types the gateway only creates itself. */
function publicJob(request: CreateJobDto, path: string): CreateJobDto {
  if (INTERNAL_JOB_TYPES.has(request.type)) throw new UnknownJobTypeError([`${path}type must be one of: ${JOB_TYPE_NAMES.join(', ')}`]);
  return request;
}

/** The boundaries a package.build names (none for "all", which is every loaded one). */
const packageBoundaries = (input: Record<string, unknown>): string[] =>
  typeof input.boundary === 'string' ? [input.boundary] : Array.isArray(input.boundaries) ? (input.boundaries as string[]) : [];

export interface Submitted {
  job: JobView;
  /** False when the submission was a duplicate and `job` is the existing one. */
  created: boolean;
}

@Injectable()
export class JobsService {
  constructor(
    @Inject(JobsRepository) private readonly jobs: JobsRepository,
    @Inject(OutboxRelay) private readonly outbox: OutboxRelay,
    @Inject(SagaCoordinator) private readonly coordinator: SagaCoordinator,
    @Inject(SagasRepository) private readonly sagas: SagasRepository,
    @Inject(ResultLinks) private readonly links: ResultLinks,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Validates a job or an array of jobs (each field problem named with its place), then submits them together. */
  async submitBody(principal: Principal, body: unknown): Promise<Submitted[]> {
    if (Array.isArray(body)) {
      if (body.length === 0 || body.length > MAX_BULK_JOBS) {
        throw new JobBatchSizeError([`an array of jobs holds 1 to ${MAX_BULK_JOBS} jobs, not ${body.length}`]);
      }
      return this.submit(
        principal,
        body.map((item, index) => publicJob(validated(CreateJobDto, item, `[${index}]`), `[${index}].`)),
        '[%d].',
      );
    }
    return this.submit(principal, [publicJob(validated(CreateJobDto, body, ''), '')], '');
  }

  /**
   * Writes the jobs and their commands in one transaction; duplicates come back as the existing jobs. `causationId`
   * is the message that made the submission (a followup's `followup.run`); a request from outside has none (the
   * envelope's causationId is null): its HTTP request id is the caller's `x-correlation-id`, which the caller may
   * choose and repeat, so it names no one message — the job id, the messages' correlation id, ties them to it.
   *
   * Every way jobs are submitted (POST /jobs, the feature routes, the compatibility routes, retries, a followup's
   * next job) comes through here, and here the owner's cap on unfinished jobs is applied: a submission that would
   * pass it is refused whole (QueueFullError). The subtasks and merges the system creates for a saga are not
   * submissions and are never refused.
   */
  async submit(
    principal: Principal,
    requests: CreateJobDto[],
    pathFormat: string,
    ckan: CkanJobData | null = null,
    causationId: string | null = null,
  ): Promise<Submitted[]> {
    const budget = { left: MAX_SUBTASKS }; // subtasks of the whole request, however many jobs it holds
    const newJobs = requests.map((request, index) => ({
      ...this.prepare(principal, request, { budget, path: pathFormat.replace('%d', String(index)), maxSubtasks: MAX_SUBTASKS, causationId }),
      ckan,
    }));
    await this.checkLayers(newJobs, pathFormat);
    await this.checkBoundaries(newJobs, pathFormat);
    const results = new Map<string, Submitted>();
    let pending = newJobs;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 3) throw new SubmissionContendedError();
      const inserted = await this.coordinator.insert(pending, this.config.GEOJOBS_MAX_QUEUED_PER_OWNER || null); // with the subtasks of sagas
      const fresh = new Map(inserted.map((row) => [row.id, row]));
      if (fresh.size > 0) this.outbox.kick();
      const unresolved: NewJob[] = [];
      for (const job of pending) {
        const row = fresh.get(job.id) ?? (await this.jobs.findDuplicate(job));
        // no row: the job we collided with finished in between, so this one may be submitted after all
        if (row) results.set(job.id, { job: toView(row), created: fresh.has(job.id) });
        else unresolved.push(job);
      }
      pending = unresolved;
    }
    return newJobs.map((job) => results.get(job.id)!);
  }

  /** Refuses exports of layers that do not exist, naming each with its place: a job that could only fail. */
  private async checkLayers(jobs: NewJob[], pathFormat: string): Promise<void> {
    const named = jobs.map((job) => (job.type === 'export.layers' ? (job.input.layers as string[]) : []));
    const all = [...new Set(named.flat())];
    if (all.length === 0) return;
    const existing = await this.jobs.existingLayers(all);
    const problems = named.flatMap((layers, index) =>
      layers.filter((layer) => !existing.has(layer)).map((layer) => `${pathFormat.replace('%d', String(index))}input.layers: no layer ${layer}`),
    );
    if (problems.length > 0) throw new UnknownLayersError(problems);
  }

  /** Refuses packages of boundaries that are not loaded, naming each with its place: a job that could only fail. */
  private async checkBoundaries(jobs: NewJob[], pathFormat: string): Promise<void> {
    const named = jobs.map((job) => (job.type === 'package.build' ? packageBoundaries(job.input) : []));
    const all = [...new Set(named.flat())];
    if (all.length === 0) return;
    const existing = await this.jobs.existingBoundaries(all);
    const problems = named.flatMap((names, index) =>
      names.filter((name) => !existing.has(name)).map((name) => `${pathFormat.replace('%d', String(index))}input: no boundary ${name}`),
    );
    if (problems.length > 0) throw new UnknownBoundariesError(problems);
  }

  /** The job with its children (states, overall percent; the first 1,000 listed), its followups' outcomes and its history. */
  async get(principal: Principal, id: string): Promise<JobView> {
    const found = isJobId(id) ? await this.jobs.findWithDetail(id, MAX_LISTED_CHILDREN) : undefined;
    if (!found || !canSee(principal, found.row)) throw new JobNotFoundError(id);
    const { row, detail } = found;
    return this.links.present({ ...toView(row, detail.children), followupRuns: detail.followupRuns, history: detail.history });
  }

  /** The whole saga below a job, nested (capped in depth and size). */
  async tree(principal: Principal, id: string): Promise<JobTreeNode> {
    const row = await this.visible(principal, id);
    return toTree(await this.sagas.tree(row.id));
  }

  async list(principal: Principal, query: ListJobsQuery): Promise<JobView[]> {
    const rows = await this.jobs.list({ ...this.filterFor(principal, query), limit: query.limit ?? 50, offset: query.offset ?? 0 });
    const children = await this.jobs.childrenSummaries(rows.map((row) => row.id));
    return rows.map((row) => this.links.present(toView(row, children.get(row.id) ?? null)));
  }

  async count(principal: Principal, query: JobFilterQuery): Promise<number> {
    return this.jobs.count(this.filterFor(principal, query));
  }

  /** The query's filter, limited to the caller's own jobs unless they may see everyone's. */
  private filterFor(principal: Principal, query: JobFilterQuery): JobFilter {
    const { state, type, parentId, createdFrom, createdTo, q } = query;
    return { state, type, parentId, createdFrom, createdTo, q, owner: canSeeAll(principal) ? query.owner : principal.name };
  }

  /** A new job with a finished job's type, input and followups, owned by the same owner and linked to it. */
  async retry(principal: Principal, id: string): Promise<JobView> {
    const row = await this.visible(principal, id);
    const refusal = retryRefusal(row);
    if (refusal) throw new JobNotRetryableError(id, refusal);
    const [retried] = await this.retryRows(principal, [row]);
    return this.get(principal, retried);
  }

  /**
   * Cancels or retries every job the filter matches (up to MAX_BULK_ACTION, oldest first), or only counts them
   * (`dryRun`): the count the dashboard shows before asking. Cancel takes the queued and running ones; retry the
   * failed and cancelled top-level ones.
   */
  async bulk(principal: Principal, action: BulkAction, query: JobFilterQuery, dryRun: boolean): Promise<BulkOutcome> {
    const wanted = action === 'cancel' ? (['queued', 'running'] as const) : (['failed', 'cancelled'] as const);
    // a saga's subtasks are never retried on their own (the saga is): a retry within one saga matches nothing
    const states = action === 'retry' && query.parentId ? [] : query.state ? wanted.filter((state) => state === query.state) : [...wanted];
    const filters = states.map((state) => ({ ...this.filterFor(principal, query), state, topLevelOnly: action === 'retry' }));
    const counts = await Promise.all(filters.map((filter) => this.jobs.count(filter)));
    const matched = counts.reduce((sum, count) => sum + count, 0);
    if (dryRun || matched === 0) return { action, matched, done: 0 };
    const rows = (await Promise.all(filters.map((filter) => this.jobs.list({ ...filter, limit: MAX_BULK_ACTION, offset: 0 })))).flat();
    if (action === 'cancel') {
      let done = 0;
      for (const row of rows) if ((await this.coordinator.cancel(row.id)).length > 0) done++;
      if (done > 0) this.outbox.kick();
      return { action, matched, done };
    }
    const retried = await this.retryRows(principal, rows);
    return { action, matched, done: retried.length };
  }

  /** Submits a retry of each row, as the row's owner, in batches; links each to its row. Returns the new job ids. */
  private async retryRows(principal: Principal, rows: JobRow[]): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < rows.length; start += MAX_BULK_JOBS) {
      const batch = rows.slice(start, start + MAX_BULK_JOBS);
      for (const owner of new Set(batch.map((row) => row.owner))) {
        const owned = batch.filter((row) => row.owner === owner);
        const submitted = await this.submit({ ...principal, name: owner }, owned.map(retryRequest), '[%d].');
        await this.jobs.recordRetries(
          submitted.map((item, index) => ({ jobId: item.job.id, retryOf: owned[index].id })),
          principal.name,
        );
        ids.push(...submitted.map((item) => item.job.id));
      }
    }
    return ids;
  }

  /** Cancels a queued or running job and its subtasks; cancelling a cancelled job again is a no-op. */
  async cancel(principal: Principal, id: string): Promise<JobView> {
    const row = await this.visible(principal, id);
    if (row.state === 'succeeded' || row.state === 'failed' || row.state === 'expired') throw new JobAlreadyFinishedError(id, row.state);
    const cancelled = await this.coordinator.cancel(id);
    if (cancelled.length > 0) this.outbox.kick();
    return this.get(principal, id);
  }

  /**
   * The storage key of the job's result file. Services name it in the result as `file`: a key such as
   * `exports/<job id>/bundle.zip`, or the same as a `storage://` URI.
   */
  async resultFile(principal: Principal, id: string): Promise<string> {
    const row = await this.visible(principal, id);
    if (row.state === 'expired') throw new ResultExpiredError(id, row.expires_at);
    const file = typeof row.result?.file === 'string' ? row.result.file : undefined;
    if (!file) throw new ResultFileNotFoundError(`job ${id} has no result file${row.state === 'succeeded' ? '' : ` (it is ${row.state})`}`);
    try {
      return assertStorageKey(storageKeyOf(file) ?? file);
    } catch {
      throw new ResultFileNotFoundError(`job ${id} names no valid result file`);
    }
  }

  /** The job, if this caller may see it: its owner, or an admin. Others get the same 404 as a missing job. */
  async visible(principal: Principal, id: string): Promise<JobRow> {
    const row = isJobId(id) ? await this.jobs.findById(id) : undefined;
    if (!row || !canSee(principal, row)) throw new JobNotFoundError(id);
    return row;
  }

  private prepare(principal: Principal, request: CreateJobDto, origin: SubtaskOrigin): NewJob {
    const { path, causationId } = origin;
    // POST /analytics/events builds its input as an instance of the input class, from validated parts
    const { type, input } = typedInput(request.type, request.input, path);
    const id = randomUUID();
    const command = type.command(id, input);
    const plainInput = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
    const job: NewJob = {
      id,
      type: request.type,
      input: plainInput,
      inputFingerprint: fingerprint(plainInput),
      idempotencyKey: request.idempotencyKey ?? null,
      followups: request.followups ? (JSON.parse(JSON.stringify(request.followups)) as Record<string, unknown>) : {},
      saga: request.saga ? { ...request.saga } : null,
      owner: principal.name,
      parentId: null,
      ckan: null,
      command: commandEnvelope(command.key, command.payload, { correlationId: id, causationId }),
    };
    const subtasks = type.subtasks?.(input) ?? [];
    if (subtasks.length > 0) {
      job.command = null; // a saga parent's work is its subtasks, then the merge
      job.saga = sagaOptions(request.saga);
      job.subtasks = subtaskJobs(principal.name, job, subtasks, origin);
      job.merge = type.merge?.(input) ?? undefined;
    }
    return job;
  }
}
