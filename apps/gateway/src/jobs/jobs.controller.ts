import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res, Sse, type MessageEvent } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { concatMap, map, Observable, startWith, takeWhile } from 'rxjs';
import { CurrentPrincipal, TokenInQuery } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ResultFiles } from './result-files.js';
import { CreateJobDto, ListJobsQuery } from './dto/create-job.dto.js';
import { JobChangesListener } from './job-changes.listener.js';
import { isFinal } from '../job-model/job.model.js';
import { JobsService } from './jobs.service.js';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('jobs')
export class JobsController {
  constructor(
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(JobChangesListener) private readonly changes: JobChangesListener,
    @Inject(ResultFiles) private readonly files: ResultFiles,
  ) {}

  /** A job, or an array of up to 1,000 (one transaction). 202 with the job(s); 200 with the existing job for a duplicate. */
  @Post()
  @ApiBody({ type: CreateJobDto, description: 'a job, or an array of up to 1,000 jobs' })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Res({ passthrough: true }) response: Response) {
    const submitted = await this.jobs.submitBody(principal, body);
    if (Array.isArray(body)) {
      response.status(202);
      return submitted.map((item) => item.job);
    }
    response.status(submitted[0].created ? 202 : 200);
    return submitted[0].job;
  }

  @Get()
  list(@CurrentPrincipal() principal: Principal, @Query() query: ListJobsQuery) {
    return this.jobs.list(principal, query);
  }

  @Get(':id')
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.jobs.get(principal, id);
  }

  /** The whole saga below the job: every subtask with its state, progress and error, nested. */
  @Get(':id/tree')
  tree(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.jobs.tree(principal, id);
  }

  /** Server-sent events: the job now, then again at every change of state or progress; ends at a final state. */
  @Sse(':id/events')
  async events(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<Observable<MessageEvent>> {
    await this.jobs.get(principal, id); // 404 before the stream starts
    return this.changes.changes(id).pipe(
      startWith(undefined),
      concatMap(() => this.jobs.get(principal, id)),
      takeWhile((job) => !isFinal(job.state), true),
      map((job) => ({ type: isFinal(job.state) ? 'end' : 'job', data: job })),
    );
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.jobs.cancel(principal, id);
  }

  /**
   * The job's result file, streamed from storage; 410 once it has expired. Also takes the `?token=` of the result's
   * `downloadUrl`, so the link works in a browser.
   */
  @Get(':id/result')
  @TokenInQuery()
  async result(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Res() response: Response) {
    await this.files.stream(await this.jobs.resultFile(principal, id), response);
  }
}
