import { Inject, Injectable } from '@nestjs/common';
import amqp from 'amqplib';
import { deadLetterQueueOf, type QueueName } from '#shared';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { deadLetterView, replayHeaders, replayQueue, WORK_QUEUES, type DeadLetterView, type Headers } from './dead-letters.js';
import { ManagementClient } from './management.client.js';

interface ManagementQueue {
  name: string;
  type?: string;
  messages?: number;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: Record<string, { rate?: number } | number | undefined>;
}

interface ManagementMessage {
  payload: string;
  routing_key: string;
  properties: { headers?: Headers; message_id?: string; type?: string };
}

export interface QueueView {
  name: string;
  /** The work queue this is the dead-letter queue of, or null for a work queue. */
  deadLetterOf: string | null;
  messages: number;
  ready: number;
  unacked: number;
  consumers: number;
  /** Messages per second over the management API's last sample. */
  rates: { publish: number; deliver: number; ack: number };
}

export interface QueuesView {
  vhost: string;
  managementUi: string | null;
  queues: QueueView[];
}

/** Dead letters looked at in one replay or discard: beyond this, run it again. */
const MAX_SCANNED = 10_000;

const rate = (stats: ManagementQueue['message_stats'], name: string): number => {
  const details = stats?.[`${name}_details`];
  return typeof details === 'object' && typeof details.rate === 'number' ? Math.round(details.rate * 100) / 100 : 0;
};

/** The queues page: depths and rates from the management API, dead letters listed, replayed or discarded. */
@Injectable()
export class QueuesService {
  constructor(
    @Inject(ManagementClient) private readonly management: ManagementClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Every geojobs work queue and its dead-letter queue, in the contract's order. */
  async queues(): Promise<QueuesView> {
    const listed = await this.management.request<ManagementQueue[]>('GET', '/api/queues/{vhost}');
    const byName = new Map(listed.map((queue) => [queue.name, queue]));
    const names = WORK_QUEUES.flatMap((queue) => [queue, deadLetterQueueOf(queue)]);
    const queues = names.map((name): QueueView => {
      const found = byName.get(name);
      return {
        name,
        deadLetterOf: WORK_QUEUES.find((queue) => deadLetterQueueOf(queue) === name) ?? null,
        messages: found?.messages ?? 0,
        ready: found?.messages_ready ?? 0,
        unacked: found?.messages_unacknowledged ?? 0,
        consumers: found?.consumers ?? 0,
        rates: { publish: rate(found?.message_stats, 'publish'), deliver: rate(found?.message_stats, 'deliver_get'), ack: rate(found?.message_stats, 'ack') },
      };
    });
    return { vhost: this.management.vhost, managementUi: this.management.uiUrl, queues };
  }

  /**
   * The first `limit` dead letters of a queue, read through the management API and put back (it cannot take one
   * message out by id: replay and discard go through AMQP).
   */
  async deadLetters(queue: QueueName, limit: number): Promise<DeadLetterView[]> {
    const dlq = deadLetterQueueOf(queue);
    const messages = await this.management.request<ManagementMessage[]>('POST', `/api/queues/{vhost}/${encodeURIComponent(dlq)}/get`, {
      count: limit,
      ackmode: 'ack_requeue_true',
      encoding: 'auto',
      truncate: 50_000,
    });
    return messages.map((message) => deadLetterView(message, dlq));
  }

  /** Puts the dead letter with this message id, or every one, back on its original queue. Returns how many. */
  replay(queue: QueueName, messageId: string | undefined): Promise<number> {
    return this.take(queue, messageId, async (channel, message) => {
      const headers = (message.properties.headers ?? {}) as Headers;
      const target = replayQueue(headers, deadLetterQueueOf(queue));
      const { messageId: id, correlationId, type, contentType, timestamp } = message.properties as unknown as Record<string, string | number | undefined>;
      channel.publish('', target, message.content, {
        persistent: true,
        mandatory: true,
        headers: replayHeaders(headers),
        ...(id === undefined ? {} : { messageId: String(id) }),
        ...(correlationId === undefined ? {} : { correlationId: String(correlationId) }),
        ...(type === undefined ? {} : { type: String(type) }),
        ...(contentType === undefined ? {} : { contentType: String(contentType) }),
        ...(typeof timestamp === 'number' ? { timestamp } : {}),
      });
      await channel.waitForConfirms();
    });
  }

  /** Drops the dead letter with this message id, or every one. Returns how many. */
  discard(queue: QueueName, messageId: string | undefined): Promise<number> {
    return this.take(queue, messageId, async () => undefined);
  }

  /** A short-lived connection to the first node of the cluster that answers (the one named, when there is one). */
  private async connectToAnyNode(): Promise<amqp.ChannelModel> {
    let failure: unknown;
    for (const url of this.config.GEOJOBS_AMQP_URL) {
      try {
        return await amqp.connect(url, { clientProperties: { connection_name: 'gateway dead-letter admin' } });
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  }

  /**
   * Takes the dead letters of `queue` one at a time, as many as were there at the start (a replayed message that
   * fails again comes back behind them and is not taken twice), handles the ones that match and acks them; the others
   * are held unacked and returned to the queue at the end, in their order.
   */
  private async take(
    queue: QueueName,
    messageId: string | undefined,
    handle: (channel: amqp.ConfirmChannel, message: amqp.GetMessage) => Promise<void>,
  ): Promise<number> {
    const dlq = deadLetterQueueOf(queue);
    const connection = await this.connectToAnyNode();
    try {
      const channel = await connection.createConfirmChannel();
      const { messageCount } = await channel.checkQueue(dlq);
      const held: amqp.GetMessage[] = [];
      let done = 0;
      try {
        for (let index = 0; index < Math.min(messageCount, MAX_SCANNED); index++) {
          const message = await channel.get(dlq, { noAck: false });
          if (!message) break;
          if (messageId !== undefined && String(message.properties.messageId) !== messageId) {
            held.push(message);
            continue;
          }
          await handle(channel, message);
          channel.ack(message);
          done++;
          if (messageId !== undefined) break;
        }
      } finally {
        for (const message of held) channel.nack(message, false, true);
      }
      await channel.close();
      return done;
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
}
