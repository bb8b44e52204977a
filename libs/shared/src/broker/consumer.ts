import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from 'pino';
import type { ContractsOf } from '../contracts/contract.js';
import type { Envelope } from '../contracts/envelope.js';
import { EXCHANGES, HEADERS, deadLetterQueueOf } from '../contracts/routing.js';
import { runWithCorrelation } from '../logging/correlation.js';
import type { ConfirmedPublisher } from './confirmed-publisher.js';
import { AckBatcher } from './ack-batcher.js';
import { MalformedMessageError, parseEnvelope, validatePayload } from './message-validation.js';

/** Thrown by a handler for a failure that retrying cannot mend: the message is dead-lettered at once. */
export class PermanentError extends Error {
  override readonly name: string = 'PermanentError';
}

export interface HandlerContext {
  /** 1 on the first try, 2 on the first retry, … */
  attempt: number;
  /** The broker delivered this message before (the previous consumer died or its channel closed). */
  redelivered: boolean;
  /** If the handler throws, the message is dead-lettered rather than retried: this is its last try. */
  lastAttempt: boolean;
}

export type MessageHandler<T, K extends string> = (message: Envelope<T, K>, context: HandlerContext) => Promise<void>;
export type HandlerMap<M> = { [K in keyof M & string]?: MessageHandler<M[K], K> };

export interface RetryPolicy {
  /** Tries in all, the first included, before a failing message is dead-lettered. */
  maxAttempts: number;
  delaysMs: readonly number[];
}

export interface ConsumerSpec<M> {
  queue: string;
  prefetch: number;
  contracts: ContractsOf<M>;
  handlers: HandlerMap<M>;
  /**
   * False for a process's own notification queue (see Broker.subscribe): a message it cannot handle is
   * logged and dropped, since that queue has no dead-letter queue and a retry would not help. Default true.
   */
  deadLetters?: boolean;
}

/** A retried message comes back through the default exchange, under its queue's name: keep the first key. */
const originalRoutingKey = (message: ConsumeMessage): string => String(message.properties.headers?.[HEADERS.originalRoutingKey] ?? message.fields.routingKey);

export type DeadLetterReason = 'malformed' | 'rejected' | 'failed';

/**
 * Takes messages from one queue with manual acks and a per-consumer prefetch. Every message is acked only
 * once its outcome is safe in the broker: handled, or re-published (confirmed) to a retry holding queue or to
 * the queue's dead-letter queue with the reason in its headers. If the process dies first, the broker
 * redelivers the message; the queue's delivery limit stops a message that keeps killing its consumers.
 */
export class Consumer<M> {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly spec: ConsumerSpec<M>,
    private readonly publisher: ConfirmedPublisher,
    private readonly retry: RetryPolicy,
    private readonly logger: Logger,
  ) {}

  get queue(): string {
    return this.spec.queue;
  }

  async start(channel: Channel): Promise<void> {
    await channel.prefetch(this.spec.prefetch);
    const acks = new AckBatcher(channel);
    await channel.consume(this.spec.queue, (message) => {
      if (!message) return; // cancelled by the broker (queue deleted); the next reconnect consumes again
      acks.delivered(message);
      const work = this.handle(acks, message).finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    });
  }

  /** Waits for the handlers already running, for a graceful stop. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async handle(acks: AckBatcher, message: ConsumeMessage): Promise<void> {
    let envelope: Envelope<Record<string, unknown>>;
    let handler: MessageHandler<unknown, string>;
    let payload: object;
    try {
      envelope = parseEnvelope(message.content);
      const type = envelope.type as keyof M & string;
      const contract = this.spec.contracts[type];
      const found = this.spec.handlers[type] as MessageHandler<unknown, string> | undefined;
      if (!contract || !found) throw new MalformedMessageError(`no handler for ${envelope.type} on ${this.spec.queue}`);
      handler = found;
      payload = validatePayload(contract as ContractsOf<Record<string, object>>[string], envelope);
    } catch (error) {
      await this.settle(acks, message, () => this.deadLetter(message, 'malformed', error as Error, 0));
      return;
    }

    envelope.payload = payload as Record<string, unknown>;
    const attempt = Number(message.properties.headers?.[HEADERS.attempts] ?? 0) + 1;
    const context = { correlationId: envelope.correlationId, messageId: envelope.id };
    await runWithCorrelation(context, () => this.run(acks, message, handler, envelope, attempt));
  }

  private async run(
    acks: AckBatcher,
    message: ConsumeMessage,
    handler: MessageHandler<unknown, string>,
    envelope: Envelope<unknown>,
    attempt: number,
  ): Promise<void> {
    try {
      const started = performance.now();
      await handler(envelope, { attempt, redelivered: message.fields.redelivered, lastAttempt: attempt >= this.retry.maxAttempts });
      acks.settle(message);
      this.logger.debug({ type: envelope.type, attempt, ms: Math.round(performance.now() - started) }, 'message handled');
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (failure instanceof PermanentError) {
        await this.settle(acks, message, () => this.deadLetter(message, 'rejected', failure, attempt));
      } else if (attempt >= this.retry.maxAttempts) {
        await this.settle(acks, message, () => this.deadLetter(message, 'failed', failure, attempt));
      } else {
        await this.settle(acks, message, () => this.scheduleRetry(message, attempt, failure));
      }
    }
  }

  /** Acks once the message's new home has confirmed it; if that fails the message goes back to its queue. */
  private async settle(acks: AckBatcher, message: ConsumeMessage, republish: () => Promise<void>): Promise<void> {
    if (this.spec.deadLetters === false) {
      this.logger.warn({ queue: this.spec.queue }, 'dropped a notification that could not be handled');
      acks.settle(message);
      return;
    }
    try {
      await republish();
      acks.settle(message);
    } catch (error) {
      this.logger.error({ err: error, queue: this.spec.queue }, 'could not re-publish a message; returning it to the queue');
      acks.requeue(message);
    }
  }

  private scheduleRetry(message: ConsumeMessage, attempt: number, error: Error): Promise<void> {
    const delays = this.retry.delaysMs;
    const delay = delays[Math.min(attempt - 1, delays.length - 1)];
    this.logger.warn({ queue: this.spec.queue, attempt, delayMs: delay, err: error }, 'handler failed; retrying');
    return this.publisher.publish(EXCHANGES.retry, this.spec.queue, message.content, {
      ...this.copyProperties(message),
      headers: {
        ...message.properties.headers,
        [HEADERS.attempts]: attempt,
        [HEADERS.retryDelay]: String(delay),
        [HEADERS.originalRoutingKey]: originalRoutingKey(message),
        [HEADERS.error]: error.message.slice(0, 1_000),
      },
    });
  }

  private deadLetter(message: ConsumeMessage, reason: DeadLetterReason, error: Error, attempts: number): Promise<void> {
    const dlq = deadLetterQueueOf(this.spec.queue);
    this.logger.error({ queue: this.spec.queue, reason, attempts, err: error }, 'message dead-lettered');
    return this.publisher.publish(EXCHANGES.deadLetter, dlq, message.content, {
      ...this.copyProperties(message),
      headers: {
        ...message.properties.headers,
        [HEADERS.reason]: reason,
        [HEADERS.error]: `${error.name}: ${error.message}`.slice(0, 4_000),
        [HEADERS.attempts]: attempts,
        [HEADERS.originalQueue]: this.spec.queue,
        [HEADERS.originalRoutingKey]: originalRoutingKey(message),
        [HEADERS.deadLetteredAt]: new Date().toISOString(),
      },
    });
  }

  private copyProperties(message: ConsumeMessage): Options.Publish & { messageId: string } {
    const { properties } = message;
    return {
      // amqplib types the properties it read as `any`
      messageId: properties.messageId ? String(properties.messageId) : randomUUID(),
      correlationId: properties.correlationId as string | undefined,
      type: properties.type as string | undefined,
      contentType: properties.contentType as string | undefined,
      timestamp: properties.timestamp as number | undefined,
    };
  }
}
