import { randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { eventsFromHdxSendAnalytics, HdxSendAnalyticsError, type AnalyticsEventV1 } from '#shared';
import type { Principal } from '../auth/principal.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { CreateJobDto } from '../jobs/dto/create-job.dto.js';
import { AnalyticsTrackJobInput } from '../job-model/job-types.js';
import { JobsService } from '../jobs/jobs.service.js';
import { validated } from '../common/request-validation.js';
import { AnalyticsEventDto, checkedEvent, type AnalyticsAcceptedDto } from './dto/analytics-event.dto.js';
import type { HdxSendAnalyticsDto } from './dto/hdx-send-analytics.dto.js';

/**
 * Portal events in, one `analytics.track` job per request out. The job and its command are written in one
 * transaction (the outbox relays the command to analytics_q), so an answered request is never lost, even
 * while RabbitMQ is away; each event gets its insertId here, so however often the command is delivered
 * Mixpanel counts the event once.
 */
@Injectable()
export class AnalyticsIntakeService {
  constructor(
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** An event or an array of events, each field problem named with its place. */
  async accept(principal: Principal, body: unknown): Promise<AnalyticsAcceptedDto> {
    let dtos: AnalyticsEventDto[];
    if (Array.isArray(body)) {
      const max = this.config.GEOJOBS_ANALYTICS_MAX_BATCH;
      if (body.length === 0 || body.length > max) throw new BadRequestException([`an array of events holds 1 to ${max} events, not ${body.length}`]);
      dtos = body.map((item, index) => checkedEvent(item) ?? validated(AnalyticsEventDto, item, `[${index}]`));
    } else {
      dtos = [checkedEvent(body) ?? validated(AnalyticsEventDto, body, '')];
    }
    const now = Date.now();
    const destinations = this.config.analyticsDestinations;
    const events = dtos.map((dto): AnalyticsEventV1 => ({
      insertId: randomUUID(),
      event: dto.event,
      distinctId: dto.distinctId,
      time: dto.time ?? now,
      properties: dto.properties,
      destinations: dto.destinations ?? destinations,
      ...(dto.token ? { token: dto.token } : {}),
    }));
    return { accepted: events.length, jobId: await this.queue(principal, events) };
  }

  /** HDX's send-analytics body: its Mixpanel and GA events, queued like any others. */
  async acceptHdx(principal: Principal, body: HdxSendAnalyticsDto): Promise<{ success: true }> {
    let events: AnalyticsEventV1[];
    try {
      events = eventsFromHdxSendAnalytics(body);
    } catch (error) {
      if (error instanceof HdxSendAnalyticsError) throw new BadRequestException([error.message]);
      throw error;
    }
    if (events.length > 0) await this.queue(principal, events);
    return { success: true };
  }

  private async queue(principal: Principal, events: AnalyticsEventV1[]): Promise<string> {
    // built here from validated events: JobsService takes an instance of the job type's input class as it is
    const input = Object.assign(new AnalyticsTrackJobInput(), { events });
    const request = Object.assign(new CreateJobDto(), { type: 'analytics.track', input });
    const [submitted] = await this.jobs.submit(principal, [request], '');
    return submitted.job.id;
  }
}
