import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AnalyticsDestination } from '#shared';

/** Per-destination delivery counters, exposed in Prometheus format at `GET /metrics`. */
@Injectable()
export class AnalyticsMetrics {
  readonly registry = new Registry();
  private readonly queuedBy = new Map<AnalyticsDestination, () => number>();

  private readonly sentTotal = new Counter({
    name: 'geojobs_analytics_events_sent_total',
    help: 'Events the destination accepted',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });

  private readonly retriedTotal = new Counter({
    name: 'geojobs_analytics_events_retried_total',
    help: 'Events sent again after a 429, a 5xx, a timeout or a network error (counted once per retry)',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });

  private readonly rejectedTotal = new Counter({
    name: 'geojobs_analytics_events_rejected_total',
    help: 'Events the destination refused for good (4xx), or that could not be sent at all; each is in analytics_q.dlq',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'geojobs_analytics_' });
    const queuedBy = this.queuedBy;
    new Gauge({
      name: 'geojobs_analytics_events_queued',
      help: 'Events this process holds for the destination: waiting in a batch, being sent or waiting to be retried',
      labelNames: ['destination'] as const,
      registers: [this.registry],
      collect() {
        for (const [destination, count] of queuedBy) this.set({ destination }, count());
      },
    });
  }

  watchQueued(destination: AnalyticsDestination, count: () => number): void {
    this.queuedBy.set(destination, count);
  }

  sent(destination: AnalyticsDestination, count: number): void {
    if (count > 0) this.sentTotal.inc({ destination }, count);
  }

  retried(destination: AnalyticsDestination, count: number): void {
    if (count > 0) this.retriedTotal.inc({ destination }, count);
  }

  rejected(destination: AnalyticsDestination, count: number): void {
    if (count > 0) this.rejectedTotal.inc({ destination }, count);
  }
}
