import { randomUUID } from 'node:crypto';
import type { Envelope } from '../contracts/envelope.js';
import { eventEnvelope } from '../contracts/envelopes.js';
import { MAX_BATCHED_EVENTS, type BatchedEvent } from '../contracts/job.events.js';

/** The most a `job.batch` body holds, of its events' JSON: a job's result may be large. */
export const MAX_BATCH_BYTES = 1024 * 1024;

/** Sends one message body; resolves once the broker confirmed it. */
export type SendBody = (envelope: Envelope<unknown>, body: Buffer) => Promise<void>;

interface Pending {
  event: BatchedEvent;
  json: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Sends the lifecycle events reported in one turn of the event loop together. A service consuming with a prefetch of
 * hundreds ends quick jobs in bursts, and each event alone is a persistent message the broker writes and confirms: here
 * an event reported alone goes out as itself, and several go out as one `job.batch` (at most MAX_BATCHED_EVENTS events
 * and MAX_BATCH_BYTES of them each), whose confirm resolves every event in it.
 */
export class JobEventBatcher {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(private readonly send: SendBody) {}

  /** Resolves once the broker confirmed the message carrying `event`. */
  add(event: BatchedEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ event, json: JSON.stringify(event), resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    let group: Pending[] = [];
    let bytes = 0;
    for (const item of this.pending) {
      if (group.length === MAX_BATCHED_EVENTS || (group.length > 0 && bytes + item.json.length > MAX_BATCH_BYTES)) {
        this.sendGroup(group);
        group = [];
        bytes = 0;
      }
      group.push(item);
      bytes += item.json.length;
    }
    this.pending = [];
    if (group.length > 0) this.sendGroup(group);
  }

  private sendGroup(group: Pending[]): void {
    const sent = group.length === 1 ? this.send(group[0].event, Buffer.from(group[0].json)) : this.sendBatch(group.map((item) => item.json));
    sent.then(
      () => group.forEach((item) => item.resolve()),
      (error: Error) => group.forEach((item) => item.reject(error)),
    );
  }

  /** The batch's body, written around the events' JSON already made (each event is serialised once). */
  private sendBatch(events: string[]): Promise<void> {
    // a batch belongs to no one job: a correlation of its own, while each event keeps its job's and its cause
    const batch = eventEnvelope('job.batch', { events: [] }, { correlationId: randomUUID() });
    const head = JSON.stringify({ ...batch, payload: undefined }).slice(0, -1);
    return this.send(batch, Buffer.from(`${head},"payload":{"events":[${events.join(',')}]}}`));
  }
}
