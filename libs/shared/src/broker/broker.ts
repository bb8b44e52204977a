import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type RecoveringChannelModel } from 'amqplib';
import type { Logger } from 'pino';
import type { Envelope, MessageOrigin } from '../contracts/envelope.js';
import { COMMAND_CONTRACTS, type CommandKey, type Commands } from '../contracts/commands.js';
import { commandEnvelope, eventEnvelope } from '../contracts/envelopes.js';
import { EVENT_CONTRACTS, type EventKey, type Events } from '../contracts/events.js';
import type { BatchedEvent, BatchedEventKey } from '../contracts/job.events.js';
import { EXCHANGES, HEADERS, deadLetterQueueOf } from '../contracts/routing.js';
import { BrokerNodes } from './broker-nodes.js';
import { ConfirmedPublisher, STUCK_CHANNEL_MS } from './confirmed-publisher.js';
import { JobEventBatcher } from './job-event-batcher.js';
import { Consumer, type ConsumerSpec, type DeadLetterReason, type HandlerMap, type RetryPolicy } from './consumer.js';
import { declareTopology, type TopologyOptions } from './topology.js';

export interface BrokerOptions extends TopologyOptions {
  /** One URL per node of the RabbitMQ cluster (one for a single broker); the connection uses any live one. */
  urls: readonly string[];
  /** Shown in the management UI's connection list. */
  connectionName: string;
  /** Tries in all before a failing message is dead-lettered. */
  maxAttempts: number;
  /** Sent but unconfirmed messages allowed at once. */
  maxUnconfirmed: number;
  heartbeatSeconds: number;
}

export interface DeadLetterOutcome {
  reason: DeadLetterReason;
  /** Why, as a reader of the dead-letter queue needs it. */
  error: string;
  /** Tries the message had had when it was given up. */
  attempts: number;
}

/**
 * The one connection of a process to RabbitMQ: declares the topology, publishes with confirms and runs
 * consumers. amqplib's recovery reconnects after the broker restarts, or to the next node of a cluster when the
 * node it used dies (BrokerNodes); every reconnect declares the topology again, re-opens the publisher channel
 * (re-sending anything unconfirmed) and restarts every consumer. Nothing here blocks start-up: while no node
 * answers, publishes wait and `connected` is false.
 */
export class Broker {
  private connection: RecoveringChannelModel | null = null;
  private readonly publisher: ConfirmedPublisher;
  private readonly jobEvents: JobEventBatcher;
  private readonly consumers: Consumer<unknown>[] = [];
  /** The connection each consumer was last started on, and its channel there. */
  private readonly startedOn = new Map<Consumer<unknown>, ChannelModel>();
  private readonly consumerChannels = new Map<Consumer<unknown>, Channel>();
  private readonly subscriptions: { pattern: string; handlers: HandlerMap<Events>; startedOn?: ChannelModel }[] = [];
  private readonly subscriptionChannels: Channel[] = [];
  private model: ChannelModel | null = null;
  private closing = false;

  constructor(
    private readonly options: BrokerOptions,
    private readonly logger: Logger,
  ) {
    this.publisher = new ConfirmedPublisher(options.maxUnconfirmed, (stuck) => void this.replacePublishingChannel(stuck));
    this.jobEvents = new JobEventBatcher((envelope, body) => this.publishBody(EXCHANGES.events, envelope, body));
  }

  get connected(): boolean {
    return this.model !== null;
  }

  /** Starts connecting; resolves at once. Use `ready()` to wait for the first connection. */
  async start(): Promise<void> {
    const nodes = new BrokerNodes(this.options.urls, this.options.heartbeatSeconds);
    const connection = await amqp.connect(nodes.endpoint, {
      clientProperties: { connection_name: this.options.connectionName },
      // amqplib leaves Nagle's algorithm on: a small frame written while the one before is unacknowledged waits for
      // the peer's delayed ACK (40 ms on Linux), which a publish, a confirm or an ack can hit on every round trip
      noDelay: true,
      recovery: {
        maxRetries: Infinity,
        waitForConnect: false,
        calculateDelay: (attempt: number) => nodes.nextDelay(attempt),
        setup: (model: ChannelModel) => this.setup(model, nodes.current),
      },
    });
    connection.on('disconnect', (error: Error) => {
      this.model = null;
      if (!this.closing) this.logger.warn({ err: error, node: nodes.current }, 'lost the broker; reconnecting');
    });
    connection.on('reconnect-scheduled', ({ attempt, delay }: { attempt: number; delay: number }) =>
      this.logger.info({ attempt, delayMs: delay, node: nodes.current }, 'reconnecting to the broker'),
    );
    connection.on('error', (error: Error) => this.logger.warn({ err: error }, 'broker connection error'));
    this.connection = connection;
  }

  async ready(): Promise<void> {
    if (!this.connection) throw new Error('Broker.start() was not called');
    await this.connection.waitForConnect();
    while (!this.model) await new Promise((resolve) => setTimeout(resolve, 10));
  }

  publishCommand<K extends CommandKey>(type: K, payload: Commands[K], origin: MessageOrigin): Promise<void> {
    return this.publishEnvelope(EXCHANGES.commands, commandEnvelope(type, payload, origin));
  }

  publishEvent<K extends EventKey>(type: K, payload: Events[K], origin: MessageOrigin): Promise<void> {
    return this.publishEnvelope(EXCHANGES.events, eventEnvelope(type, payload, origin));
  }

  /**
   * Publishes a job's lifecycle event, with the others reported in the same turn of the event loop: several go out
   * together as one `job.batch` (JobEventBatcher). Resolves once the broker has confirmed it.
   */
  publishJobEvent<K extends BatchedEventKey>(type: K, payload: Events[K], origin: MessageOrigin): Promise<void> {
    return this.jobEvents.add(eventEnvelope(type, payload, origin) as BatchedEvent);
  }

  /**
   * Publishes a ready envelope under its type as routing key; resolves once the broker has confirmed it.
   * A command must reach a queue (it is refused with UnroutableMessageError otherwise); an event may have
   * no subscriber at all.
   */
  publishEnvelope<T>(exchange: string, envelope: Envelope<T>): Promise<void> {
    return this.publishBody(exchange, envelope, Buffer.from(JSON.stringify(envelope)));
  }

  /** Publishes `envelope` serialised already as `body`. */
  private publishBody(exchange: string, envelope: Envelope<unknown>, body: Buffer): Promise<void> {
    return this.publisher.publish(exchange, envelope.type, body, {
      messageId: envelope.id,
      correlationId: envelope.correlationId,
      type: envelope.type,
      contentType: 'application/json',
      mandatory: exchange !== EXCHANGES.events,
    });
  }

  /**
   * Puts a message a handler built itself into `queue`'s dead-letter queue, with the same headers the consumer
   * sets: for a handler that takes part of a message it was given (one event of a batch that a destination
   * refused) and must dead-letter that part alone while the rest succeeds. Resolves once confirmed.
   */
  publishDeadLetter<T>(queue: string, envelope: Envelope<T>, outcome: DeadLetterOutcome): Promise<void> {
    const { reason, error, attempts } = outcome;
    const dlq = deadLetterQueueOf(queue);
    return this.publisher.publish(EXCHANGES.deadLetter, dlq, Buffer.from(JSON.stringify(envelope)), {
      messageId: envelope.id,
      correlationId: envelope.correlationId,
      type: envelope.type,
      contentType: 'application/json',
      headers: {
        [HEADERS.reason]: reason,
        [HEADERS.error]: error.slice(0, 4_000),
        [HEADERS.attempts]: attempts,
        [HEADERS.originalQueue]: queue,
        [HEADERS.originalRoutingKey]: envelope.type,
        [HEADERS.deadLetteredAt]: new Date().toISOString(),
      },
    });
  }

  /** Runs handlers for the messages of one queue, on this connection and every later one. */
  async consume<M>(spec: ConsumerSpec<M>): Promise<void> {
    const consumer = new Consumer(spec, this.publisher, this.retryPolicy(), this.logger) as Consumer<unknown>;
    this.consumers.push(consumer);
    if (this.model) await this.startConsumer(this.model, consumer);
  }

  consumeCommands(queue: string, prefetch: number, handlers: HandlerMap<Commands>): Promise<void> {
    return this.consume({ queue, prefetch, contracts: COMMAND_CONTRACTS, handlers });
  }

  consumeEvents(queue: string, prefetch: number, handlers: HandlerMap<Events>): Promise<void> {
    return this.consume({ queue, prefetch, contracts: EVENT_CONTRACTS, handlers });
  }

  /**
   * This process's own copy of the events matching a pattern (e.g. `job.cancelled`), through an exclusive
   * queue that lives as long as the connection: a broadcast, unlike the competing consumers of a work queue.
   * Events published while the process was disconnected are not seen.
   */
  async subscribe(pattern: string, handlers: HandlerMap<Events>): Promise<void> {
    this.subscriptions.push({ pattern, handlers });
    if (this.model) await this.startSubscription(this.model, this.subscriptions[this.subscriptions.length - 1]);
  }

  /** Stops taking messages, lets running handlers finish and their outcomes confirm, then disconnects. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.consumerChannels.values(), ...this.subscriptionChannels].map((channel) => channel.close()));
    await Promise.allSettled(this.consumers.map((consumer) => consumer.drain()));
    this.publisher.abandon(new Error('the broker connection was closed'));
    await this.connection?.close().catch(() => undefined);
    this.model = null;
  }

  private retryPolicy(): RetryPolicy {
    return { maxAttempts: this.options.maxAttempts, delaysMs: this.options.retryDelaysMs };
  }

  private async setup(model: ChannelModel, node: string): Promise<void> {
    const admin = await model.createChannel();
    await declareTopology(admin, this.options);
    await admin.close();
    await this.openPublishingChannel(model);
    this.model = model;
    for (const consumer of this.consumers) await this.startConsumer(model, consumer);
    for (const subscription of this.subscriptions) await this.startSubscription(model, subscription);
    this.logger.info({ node }, 'connected to the broker');
  }

  private async openPublishingChannel(model: ChannelModel): Promise<void> {
    const publishing = await model.createConfirmChannel();
    publishing.on('error', (error: Error) => this.logger.warn({ err: error }, 'publisher channel error'));
    this.publisher.attach(publishing);
  }

  /** A publishing channel that answers only nacks is closed (what it had not confirmed goes out again) for a new one. */
  private async replacePublishingChannel(stuck: ConfirmChannel): Promise<void> {
    const model = this.model;
    if (!model || this.closing) return;
    this.logger.warn({ nackedForMs: STUCK_CHANNEL_MS }, 'the broker has nacked every publish on this channel; publishing on a new channel');
    try {
      await stuck.close();
      if (this.model === model && !this.closing) await this.openPublishingChannel(model);
    } catch (error) {
      // the connection went down meanwhile: the reconnect opens the next channel
      this.logger.warn({ err: error }, 'could not replace the publisher channel');
    }
  }

  private async startSubscription(model: ChannelModel, subscription: (typeof this.subscriptions)[number]): Promise<void> {
    if (subscription.startedOn === model) return;
    subscription.startedOn = model;
    const channel = await model.createChannel();
    this.subscriptionChannels.push(channel);
    channel.on('error', (error: Error) => this.logger.warn({ err: error, pattern: subscription.pattern }, 'subscription channel error'));
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, EXCHANGES.events, subscription.pattern);
    const spec = { queue, prefetch: 100, contracts: EVENT_CONTRACTS, handlers: subscription.handlers, deadLetters: false };
    await new Consumer<Events>(spec, this.publisher, this.retryPolicy(), this.logger).start(channel);
  }

  /** Starts a consumer on a connection unless it already runs there (setup and consume() may both try). */
  private async startConsumer(model: ChannelModel, consumer: Consumer<unknown>): Promise<void> {
    if (this.startedOn.get(consumer) === model) return;
    this.startedOn.set(consumer, model);
    const channel = await model.createChannel();
    this.consumerChannels.set(consumer, channel);
    channel.on('error', (error: Error) => this.logger.warn({ err: error, queue: consumer.queue }, 'consumer channel error'));
    await consumer.start(channel);
  }
}
