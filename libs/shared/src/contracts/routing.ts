/**
 * Names on the wire. These are part of the public contract between services: never rename one casually,
 * a renamed queue or routing key strands every message already in flight.
 */
export const EXCHANGES = {
  commands: 'geojobs.commands',
  events: 'geojobs.events',
  retry: 'geojobs.retry',
  deadLetter: 'geojobs.dlx',
} as const;

export const QUEUES = {
  geo: 'geo_q',
  export: 'export_q',
  analytics: 'analytics_q',
  saga: 'saga_q',
  followup: 'followup_q',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Where each work queue takes its messages from: exchange and routing-key patterns. */
export const QUEUE_BINDINGS: Record<QueueName, { exchange: string; patterns: string[] }> = {
  geo_q: { exchange: EXCHANGES.commands, patterns: ['geo.#'] },
  export_q: { exchange: EXCHANGES.commands, patterns: ['export.#', 'package.#'] },
  analytics_q: { exchange: EXCHANGES.commands, patterns: ['analytics.#'] },
  saga_q: { exchange: EXCHANGES.events, patterns: ['job.#'] },
  followup_q: { exchange: EXCHANGES.commands, patterns: ['followup.#'] },
};

export const deadLetterQueueOf = (queue: string): string => `${queue}.dlq`;

/** Delays of the retry tiers; a failed delivery waits in the tier's holding queue, then returns to its queue. */
export const RETRY_DELAYS_MS = [1_000, 5_000, 30_000] as const;
export const retryQueueOf = (delayMs: number): string => `geojobs.retry.${delayMs}`;

/** Headers geojobs sets on messages it retries or dead-letters. */
export const HEADERS = {
  attempts: 'x-geojobs-attempts',
  /** Picks the retry holding queue; no `x-` prefix, since a headers exchange ignores those when matching. */
  retryDelay: 'geojobs-retry-delay',
  reason: 'x-geojobs-reason',
  error: 'x-geojobs-error',
  originalQueue: 'x-geojobs-original-queue',
  originalRoutingKey: 'x-geojobs-original-routing-key',
  deadLetteredAt: 'x-geojobs-dead-lettered-at',
} as const;

/** Services that run work; a `noop` job names one of them. */
export const SERVICES = ['geo', 'export', 'analytics'] as const;
export type ServiceName = (typeof SERVICES)[number];
