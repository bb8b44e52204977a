import { createRequire } from 'node:module';
import { Inject, Injectable } from '@nestjs/common';
import Mixpanel from 'mixpanel';
import type { AnalyticsEventV1 } from '#shared';
import { ANALYTICS_CONFIG, type AnalyticsConfig } from '../config/analytics.config.js';
import type { DestinationClient, Route } from './destination.js';
import { DestinationHttp } from './destination-http.js';
import { mixpanelOutcome, type SendOutcome } from './send-outcome.js';

/** `/track` takes events of the last 5 days only; older ones go to `/import`. An hour's margin for time in queues. */
export const TRACK_MAX_AGE_MS = 5 * 24 * 3_600_000 - 3_600_000;

type Endpoint = 'track' | 'import';

/** The settings the mixpanel package keeps after parsing its init options (`host:port` split, defaults applied). */
interface PackageSettings {
  host: string;
  port?: number;
  protocol: 'http' | 'https';
  path: string;
}

const LIB_VERSION = (createRequire(import.meta.url)('mixpanel/package.json') as { version: string }).version;

/**
 * Mixpanel through the `mixpanel` package's settings, in batches of up to 2,000 events.
 *
 * The package is configured with MIXPANEL_HOST / MIXPANEL_PROTOCOL / MIXPANEL_PATH and its parsed settings
 * are where every request goes, so any Mixpanel-compatible server works. Its own request path is not used
 * for delivery: it caps a request at 50 events, and reports a failure as an Error without the HTTP status or
 * Mixpanel's `failed_records`, so a 429 cannot be told from a 400 nor a refused record from the rest of its
 * batch. Requests are therefore built here, as the package builds them (`ip=0`, `token`, `mp_lib`, `$lib_version`
 * on each event, HTTPS required with an API secret), and sent through DestinationHttp's kept-alive connections, with `strict=1&verbose=1` so
 * Mixpanel names each refused record. Events of the last five days go to `/track` (form-encoded `data`, as
 * the package sends), older ones to `/import` (JSON; Basic auth with MIXPANEL_API_SECRET, or with the
 * project token when no secret is set). Each event carries `$insert_id`, so a retried batch is counted once.
 */
@Injectable()
export class MixpanelService implements DestinationClient {
  readonly name = 'mixpanel' as const;
  readonly maxBatch: number;
  private readonly target: PackageSettings;

  constructor(
    @Inject(ANALYTICS_CONFIG) private readonly config: AnalyticsConfig,
    @Inject(DestinationHttp) private readonly http: DestinationHttp,
  ) {
    this.maxBatch = config.MIXPANEL_BATCH_SIZE;
    const client = Mixpanel.init(config.MIXPANEL_TOKEN ?? 'token-per-event', {
      host: config.MIXPANEL_HOST,
      protocol: config.MIXPANEL_PROTOCOL,
      path: config.MIXPANEL_PATH,
      keepAlive: true,
    });
    const { host, port, protocol, path } = (client as unknown as { config: PackageSettings }).config;
    this.target = { host, port, protocol, path };
  }

  route(event: AnalyticsEventV1, now: number = Date.now()): Route {
    const token = event.token ?? this.config.MIXPANEL_TOKEN;
    if (!token) return { refused: 'no Mixpanel token: the event carries none and MIXPANEL_TOKEN is not set' };
    const endpoint: Endpoint = now - event.time > TRACK_MAX_AGE_MS ? 'import' : 'track';
    return { key: `${endpoint}:${token}` };
  }

  async send(key: string, events: AnalyticsEventV1[]): Promise<SendOutcome> {
    const split = key.indexOf(':');
    const endpoint = key.slice(0, split) as Endpoint;
    const token = key.slice(split + 1);
    const json = JSON.stringify(events.map((event) => this.record(event, token)));
    const { protocol, host, port, path } = this.target;
    const url = `${protocol}://${host}${port ? `:${port}` : ''}${path}/${endpoint}?ip=0&verbose=1&strict=1`;
    const answer =
      endpoint === 'import'
        ? await this.http.post(url, Buffer.from(json), {
            'content-type': 'application/json',
            authorization: `Basic ${Buffer.from(`${this.config.MIXPANEL_API_SECRET ?? token}:`).toString('base64')}`,
          })
        : await this.http.post(url, Buffer.from(`data=${encodeURIComponent(json)}`), { 'content-type': 'application/x-www-form-urlencoded' });
    return mixpanelOutcome(
      answer,
      events.map((event) => event.insertId),
    );
  }

  private record(event: AnalyticsEventV1, token: string): { event: string; properties: Record<string, unknown> } {
    return {
      event: event.event,
      properties: {
        ...event.properties,
        token,
        distinct_id: event.distinctId,
        time: event.time,
        $insert_id: event.insertId,
        mp_lib: 'node',
        $lib_version: LIB_VERSION,
      },
    };
  }
}
