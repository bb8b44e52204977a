import type { AnalyticsDestination, AnalyticsEventV1 } from '#shared';
import type { SendOutcome } from './send-outcome.js';

/** Where an event came from: the message that carried it, for its ack and, if refused, its dead letter. */
export interface EventOrigin {
  messageId: string;
  correlationId: string;
  jobId?: string;
  attempt: number;
}

export interface PendingEvent {
  event: AnalyticsEventV1;
  origin: EventOrigin;
  /** Set when the destination refused the event (it was dead-lettered with this reason). */
  refused?: string;
}

/** The batch an event joins, or why no destination request could ever take it. */
export type Route = { key: string } | { refused: string };

/** One analytics destination's wire protocol: how events are grouped, and one try at sending a group. */
export interface DestinationClient {
  readonly name: AnalyticsDestination;
  /** Most events one request may carry. */
  readonly maxBatch: number;
  route(event: AnalyticsEventV1): Route;
  /** One try; throws on a network error or a timeout (both retried). */
  send(key: string, events: AnalyticsEventV1[]): Promise<SendOutcome>;
}
