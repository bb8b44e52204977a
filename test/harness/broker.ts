import amqp, { type ChannelModel, type ConsumeMessage, type GetMessage } from 'amqplib';
import { pino } from 'pino';
import { Broker, type BrokerOptions, type Envelope, type JobBatchV1 } from '#shared';
import type { TestContext } from './context.js';

/** Short retry tiers, so tests see a message retried three times in well under a second. */
export const TEST_RETRY_DELAYS_MS = [50, 100, 200];

export const silentLogger = pino({ level: process.env.GEOJOBS_TEST_LOG_LEVEL ?? 'silent' });

export function testBrokerOptions(amqpUrl: string, overrides: Partial<BrokerOptions> = {}): BrokerOptions {
  return {
    urls: amqpUrl.split(','),
    connectionName: 'test',
    deliveryLimit: 10,
    retryDelaysMs: TEST_RETRY_DELAYS_MS,
    maxAttempts: 4,
    maxUnconfirmed: 2_000,
    heartbeatSeconds: 5,
    ...overrides,
  };
}

export async function startTestBroker(context: TestContext, overrides: Partial<BrokerOptions> = {}): Promise<Broker> {
  const broker = new Broker(testBrokerOptions(context.amqpUrl, overrides), silentLogger);
  await broker.start();
  await broker.ready();
  return broker;
}

/** Records every message published to an exchange under a pattern, like a curious extra consumer would. */
export class Tap {
  readonly messages: ConsumeMessage[] = [];

  private constructor(private readonly connection: ChannelModel) {}

  static async on(amqpUrl: string, exchange: string, pattern: string): Promise<Tap> {
    const connection = await amqp.connect(amqpUrl);
    const tap = new Tap(connection);
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, exchange, pattern);
    await channel.consume(queue, (message) => {
      if (!message) return;
      tap.messages.push(message);
      channel.ack(message);
    });
    return tap;
  }

  /** Every message's envelope, in order; a `job.batch` read as the events it carries, as its consumer reads it. */
  envelopes<T = Record<string, unknown>>(): Envelope<T>[] {
    return this.messages.flatMap((message) => {
      const envelope = JSON.parse(message.content.toString()) as Envelope<unknown>;
      return (envelope.type === 'job.batch' ? (envelope as Envelope<JobBatchV1>).payload.events : [envelope]) as Envelope<T>[];
    });
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

/** Takes every message waiting in a queue (the dead-letter queue, typically), acking them. */
export async function drainQueue(amqpUrl: string, queue: string): Promise<GetMessage[]> {
  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    const messages: GetMessage[] = [];
    for (let message = await channel.get(queue); message; message = await channel.get(queue)) {
      messages.push(message);
      channel.ack(message);
    }
    return messages;
  } finally {
    await connection.close();
  }
}
