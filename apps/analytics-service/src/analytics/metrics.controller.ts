import { Controller, Get, Header, Inject } from '@nestjs/common';
import { AnalyticsMetrics } from './analytics-metrics.js';

@Controller('metrics')
export class MetricsController {
  constructor(@Inject(AnalyticsMetrics) private readonly metrics: AnalyticsMetrics) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  read(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
