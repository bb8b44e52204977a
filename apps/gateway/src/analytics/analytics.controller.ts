import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, KeyInQuery } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/principal.js';
import { AnalyticsIntakeService } from './analytics-intake.service.js';
import { AnalyticsEventDto } from './dto/analytics-event.dto.js';
import { HdxSendAnalyticsDto } from './dto/hdx-send-analytics.dto.js';

@ApiTags('analytics')
@ApiBearerAuth()
@Controller()
export class AnalyticsController {
  constructor(@Inject(AnalyticsIntakeService) private readonly analytics: AnalyticsIntakeService) {}

  /** An event, or an array of up to GEOJOBS_ANALYTICS_MAX_BATCH (1,000); 202 `{accepted, jobId}` once they are queued durably. */
  @Post('analytics/events')
  @HttpCode(202)
  @ApiBody({ type: AnalyticsEventDto, description: 'an event, or an array of up to GEOJOBS_ANALYTICS_MAX_BATCH events' })
  track(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    return this.analytics.accept(principal, body);
  }

  /** HDX compatibility: the portal's send-analytics call, with its API key as `?key=` or the usual credentials. */
  @Post('api/send-analytics')
  @HttpCode(200)
  @KeyInQuery()
  @ApiQuery({ name: 'key', required: false, description: 'a portal API key (HDX calls this from a URL template, without headers)' })
  sendAnalytics(@CurrentPrincipal() principal: Principal, @Body() body: HdxSendAnalyticsDto) {
    return this.analytics.acceptHdx(principal, body);
  }
}
