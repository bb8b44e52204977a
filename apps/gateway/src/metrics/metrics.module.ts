import { Controller, Get, Header, Inject, Injectable, Module, type NestMiddleware } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Gauge, Histogram, register } from 'prom-client';
import { Roles } from '../auth/auth.decorators.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { JobsRepository } from '../jobs/jobs.repository.js';

collectDefaultMetrics();

const httpDuration = new Histogram({
  name: 'geojobs_http_request_duration_seconds',
  help: 'HTTP request latency of the gateway',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});

/**
 * Starts timing a request now; the function returned records it, labelled with its route pattern (not the raw path,
 * to keep the label set small) and status. For the middleware below and for routes served ahead of Express.
 */
export function httpRequestTimer(method: string | undefined): (route: string, status: number) => void {
  const end = httpDuration.startTimer({ method });
  return (route, status) => end({ route, status: String(status) });
}

/** Times every request Express routes, once its answer is sent. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  use(request: Request, response: Response, next: NextFunction): void {
    const done = httpRequestTimer(request.method);
    response.on('finish', () => done((request.route as { path?: string } | undefined)?.path ?? 'unmatched', response.statusCode));
    next();
  }
}

@ApiTags('operations')
@ApiBearerAuth()
@Controller('metrics')
class MetricsController {
  private readonly jobs = new Gauge({ name: 'geojobs_jobs', help: 'Jobs by type and state', labelNames: ['type', 'state'] });

  constructor(@Inject(JobsRepository) private readonly repository: JobsRepository) {}

  /** Prometheus text format: jobs by state and type, outbox publish failures, HTTP latency, process figures. */
  @Get()
  @Roles('admin', 'reader')
  @Header('content-type', register.contentType)
  async metrics(): Promise<string> {
    this.jobs.reset();
    for (const { type, state, count } of await this.repository.countByTypeAndState()) this.jobs.set({ type, state }, count);
    return register.metrics();
  }
}

@Module({ imports: [JobsModule], controllers: [MetricsController], providers: [HttpMetricsMiddleware] })
export class MetricsModule {}
