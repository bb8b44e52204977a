import { Body, Catch, Controller, Get, HttpCode, Inject, Param, Post, Query, UseFilters, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { Public } from '#shared';
import { CurrentPrincipal } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/principal.js';
import { DomainError, LimitReachedError } from '../common/domain-error.js';
import { PackagesService, type BoundarySearch } from './packages.service.js';

const STATUS_OF_KIND: Record<DomainError['kind'], number> = { invalid: 400, 'not-found': 404, conflict: 409, gone: 410, limit: 429 };

/** irv-autopkg (FastAPI) answered errors as `{detail}`; its clients read that, so the /v1 routes do too. */
@Catch(DomainError)
export class CcgErrorFilter implements ExceptionFilter {
  catch(error: DomainError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (error instanceof LimitReachedError) response.setHeader('retry-after', String(error.retryAfterSeconds));
    response.status(STATUS_OF_KIND[error.kind]).json({ detail: error.message });
  }
}

/** A body FastAPI would have refused with 422: its `detail` list, as pydantic wrote it. */
class CcgValidationError extends Error {
  constructor(readonly detail: { loc: string[]; msg: string; type: string }[]) {
    super(detail.map((item) => item.msg).join('; '));
  }
}

@Catch(CcgValidationError)
export class CcgValidationFilter implements ExceptionFilter {
  catch(error: CcgValidationError, host: ArgumentsHost): void {
    host.switchToHttp().getResponse<Response>().status(422).json({ detail: error.detail });
  }
}

/** The body of POST /v1/jobs, checked as irv-autopkg's pydantic `Job` checked it. */
function ccgJob(body: unknown): { boundary_name: string; processors: string[] } {
  const value = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const detail: { loc: string[]; msg: string; type: string }[] = [];
  if (typeof value.boundary_name !== 'string') detail.push({ loc: ['body', 'boundary_name'], msg: 'field required', type: 'value_error.missing' });
  const processors = value.processors;
  if (!Array.isArray(processors) || !processors.every((item) => typeof item === 'string')) {
    detail.push({ loc: ['body', 'processors'], msg: 'value is not a valid list of strings', type: 'type_error.list' });
  } else if (new Set(processors).size !== processors.length) {
    detail.push({ loc: ['body', 'processors'], msg: 'duplicate processors not allowed', type: 'value_error' });
  }
  if (detail.length > 0) throw new CcgValidationError(detail);
  return { boundary_name: value.boundary_name as string, processors: processors as string[] };
}

/**
 * The CCG AutoPackaging API (irv-autopkg) under /v1: its paths and JSON, so its clients work unchanged. The
 * catalogue (boundaries, processors, packages) and the probes are public, as they were; jobs need a credential,
 * since every job has an owner here.
 */
@ApiTags('ccg')
@Controller('v1')
@UseFilters(CcgErrorFilter, CcgValidationFilter)
export class CcgController {
  constructor(
    @Inject(PackagesService) private readonly packages: PackagesService,
    @Inject(DataSource) private readonly database: DataSource,
  ) {}

  @Public()
  @Get('liveness')
  liveness() {
    return { status: 'alive' };
  }

  @Public()
  @Get('readiness')
  async readiness() {
    await this.database.query('SELECT 1');
    return { status: 'ready' };
  }

  @Public()
  @Get('boundaries')
  boundaries() {
    return this.packages.boundaries();
  }

  @Public()
  @Get('boundaries/search')
  search(@Query() query: BoundarySearch) {
    return this.packages.search(query);
  }

  @Public()
  @Get('boundaries/:name')
  boundary(@Param('name') name: string) {
    return this.packages.boundary(name);
  }

  @Public()
  @Get('processors')
  processors() {
    return this.packages.processors();
  }

  @Public()
  @Get('processors/:name')
  processor(@Param('name') name: string) {
    return this.packages.processor(name);
  }

  @Public()
  @Get('processors/:name/:version')
  processorVersion(@Param('name') name: string, @Param('version') version: string) {
    return this.packages.processorVersion(name, version);
  }

  @Public()
  @Get('packages')
  packagesList() {
    return this.packages.packagesList();
  }

  @Public()
  @Get('packages/:boundary_name')
  package(@Param('boundary_name') boundary: string) {
    return this.packages.package(boundary);
  }

  /** 202 `{job_id}`. */
  @ApiBearerAuth()
  @Post('jobs')
  @HttpCode(202)
  submit(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const job = ccgJob(body);
    return this.packages.submitCcg(principal, job.boundary_name, job.processors);
  }

  @ApiBearerAuth()
  @Get('jobs/:job_id')
  status(@CurrentPrincipal() principal: Principal, @Param('job_id') id: string) {
    return this.packages.ccgStatus(principal, id);
  }
}
