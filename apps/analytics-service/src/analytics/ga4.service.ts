import { Inject, Injectable } from '@nestjs/common';
import type { AnalyticsEventV1 } from '#shared';
import { ANALYTICS_CONFIG, type AnalyticsConfig } from '../config/analytics.config.js';
import type { DestinationClient, Route } from './destination.js';
import { GA4_LIMITS, toGa4Request } from './ga4-event.js';
import { DestinationHttp } from './destination-http.js';
import { ga4Outcome, type SendOutcome } from './send-outcome.js';

/**
 * GA4 through the Measurement Protocol: `POST GA4_ENDPOINT?measurement_id=…&api_secret=…` with up to 25
 * events of one client id per request. GA4 answers 2xx even to events it drops (its debug endpoint is the
 * only validator); a 4xx from a compatible server refuses the request's events, which are dead-lettered.
 */
@Injectable()
export class Ga4Service implements DestinationClient {
  readonly name = 'ga4' as const;
  readonly maxBatch = GA4_LIMITS.eventsPerRequest;
  private readonly url: URL | null;

  constructor(
    @Inject(ANALYTICS_CONFIG) config: AnalyticsConfig,
    @Inject(DestinationHttp) private readonly http: DestinationHttp,
  ) {
    if (config.GA4_MEASUREMENT_ID && config.GA4_API_SECRET) {
      this.url = new URL(config.GA4_ENDPOINT);
      this.url.searchParams.set('measurement_id', config.GA4_MEASUREMENT_ID);
      this.url.searchParams.set('api_secret', config.GA4_API_SECRET);
    } else {
      this.url = null;
    }
  }

  route(event: AnalyticsEventV1): Route {
    if (!this.url) return { refused: 'GA4 is not configured: set GA4_MEASUREMENT_ID and GA4_API_SECRET' };
    return { key: event.distinctId };
  }

  async send(clientId: string, events: AnalyticsEventV1[]): Promise<SendOutcome> {
    const answer = await this.http.post(this.url!.toString(), Buffer.from(JSON.stringify(toGa4Request(clientId, events))), {
      'content-type': 'application/json',
    });
    return ga4Outcome(answer, events.length);
  }
}
