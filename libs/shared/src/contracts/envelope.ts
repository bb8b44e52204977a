/** The envelope every message on the broker travels in. `type` is the routing key it was published with. */
export interface Envelope<T, K extends string = string> {
  id: string;
  type: K;
  version: number;
  occurredAt: string;
  /** The job this message belongs to. */
  correlationId: string;
  /** The id of the message (or HTTP request) that caused this one; null for a first cause. */
  causationId: string | null;
  payload: T;
}

export interface MessageOrigin {
  correlationId: string;
  causationId?: string | null;
}
