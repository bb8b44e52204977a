import type { Channel } from 'amqplib';
import { EXCHANGES, HEADERS, QUEUE_BINDINGS, deadLetterQueueOf, retryQueueOf, type QueueName } from '../contracts/routing.js';

export interface TopologyOptions {
  /** Deliveries of one message (crashes and requeues included) before the queue dead-letters it. */
  deliveryLimit: number;
  /** Delay of each retry tier, in milliseconds. */
  retryDelaysMs: readonly number[];
}

/** Quorum queue whose dead letters are never dropped on the way to their target. */
const quorum = (extra: Record<string, unknown>): Record<string, unknown> => ({
  'x-queue-type': 'quorum',
  'x-dead-letter-strategy': 'at-least-once',
  'x-overflow': 'reject-publish',
  ...extra,
});

/**
 * Declares the whole topology of the spec. Idempotent: every service runs it on every (re)connect, so
 * whichever starts first finds its queues ready. Arguments of existing queues cannot change; changing one
 * here needs a migration of the live queue.
 */
export async function declareTopology(channel: Channel, options: TopologyOptions): Promise<void> {
  await channel.assertExchange(EXCHANGES.commands, 'topic', { durable: true });
  await channel.assertExchange(EXCHANGES.events, 'topic', { durable: true });
  await channel.assertExchange(EXCHANGES.deadLetter, 'direct', { durable: true });
  await channel.assertExchange(EXCHANGES.retry, 'headers', { durable: true });

  for (const [queue, binding] of Object.entries(QUEUE_BINDINGS) as [QueueName, (typeof QUEUE_BINDINGS)[QueueName]][]) {
    const dlq = deadLetterQueueOf(queue);
    await channel.assertQueue(dlq, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.bindQueue(dlq, EXCHANGES.deadLetter, dlq);
    await channel.assertQueue(queue, {
      durable: true,
      arguments: quorum({
        'x-delivery-limit': options.deliveryLimit,
        'x-dead-letter-exchange': EXCHANGES.deadLetter,
        'x-dead-letter-routing-key': dlq,
      }),
    });
    for (const pattern of binding.patterns) await channel.bindQueue(queue, binding.exchange, pattern);
  }

  // A retried message waits in the holding queue of its delay, then is dead-lettered through the default
  // exchange under its routing key, which is the name of the queue it came from.
  for (const delay of options.retryDelaysMs) {
    const holding = retryQueueOf(delay);
    await channel.assertQueue(holding, {
      durable: true,
      arguments: quorum({ 'x-message-ttl': delay, 'x-dead-letter-exchange': '' }),
    });
    await channel.bindQueue(holding, EXCHANGES.retry, '', { 'x-match': 'all', [HEADERS.retryDelay]: String(delay) });
  }
}
