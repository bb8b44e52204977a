import type { ConfirmChannel, Message, Options } from 'amqplib';

export class UnroutableMessageError extends Error {
  constructor(exchange: string, routingKey: string) {
    super(`no queue is bound to ${exchange} for routing key ${routingKey}`);
    this.name = 'UnroutableMessageError';
  }
}

export class MessageNackedError extends Error {
  constructor(exchange: string, routingKey: string) {
    super(`the broker refused a message to ${exchange} with routing key ${routingKey}`);
    this.name = 'MessageNackedError';
  }
}

const CHANNEL_CLOSED = 'channel closed';

/** How long a channel may answer only nacks before it is reported stuck (see ConfirmedPublisher's `onStuck`). */
export const STUCK_CHANNEL_MS = 5_000;

interface Outgoing {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish & { messageId: string };
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Publishes over a confirm channel, pipelined: messages go out back to back and each promise settles when
 * the broker confirms that message. Messages wait in memory while there is no channel (broker down,
 * reconnecting) and any that were sent but not confirmed when the channel closed are sent again on the next
 * channel, so a publish whose promise resolved is on disk in the broker, and none is lost by a restart
 * (a resend may duplicate one; consumers are idempotent).
 */
export class ConfirmedPublisher {
  private channel: ConfirmChannel | null = null;
  private waiting: Outgoing[] = [];
  private waitingHead = 0;
  private readonly unconfirmed = new Set<Outgoing>();
  private readonly returned = new Set<string>();
  private writable = true;
  /** When the channel's current run of nacks (no confirm since) began. */
  private nackedSince: number | undefined;

  /**
   * `onStuck` is told of a channel that has answered only nacks for `stuckAfterMs`: seen with RabbitMQ 3.10 after a
   * quorum queue's leader node was killed, a channel that had published to it nacked every later publish for minutes,
   * while the queue had a new leader within a second and a new channel's publishes were confirmed.
   */
  constructor(
    private readonly maxUnconfirmed: number,
    private readonly onStuck: (channel: ConfirmChannel) => void = () => undefined,
    private readonly stuckAfterMs = STUCK_CHANNEL_MS,
  ) {}

  get pending(): number {
    return this.waiting.length - this.waitingHead + this.unconfirmed.size;
  }

  attach(channel: ConfirmChannel): void {
    this.channel = channel;
    this.writable = true;
    channel.on('return', (message: Message) => {
      if (message.properties.messageId) this.returned.add(String(message.properties.messageId));
    });
    channel.on('drain', () => {
      this.writable = true;
      this.flush();
    });
    channel.on('close', () => this.detach(channel));
    this.flush();
  }

  publish(exchange: string, routingKey: string, content: Buffer, options: Outgoing['options']): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ exchange, routingKey, content, options: { mandatory: true, ...options, persistent: true }, resolve, reject });
      this.flush();
    });
  }

  /** Rejects everything still waiting; for shutdown. */
  abandon(reason: Error): void {
    for (const message of [...this.waiting.slice(this.waitingHead), ...this.unconfirmed]) message.reject(reason);
    this.waiting = [];
    this.waitingHead = 0;
    this.unconfirmed.clear();
  }

  private detach(channel: ConfirmChannel): void {
    if (this.channel !== channel) return;
    this.channel = null;
    // Sent but never confirmed: the broker may or may not have them, so they go out again, first in line.
    const resend = [...this.unconfirmed];
    this.unconfirmed.clear();
    this.waiting = [...resend, ...this.waiting.slice(this.waitingHead)];
    this.waitingHead = 0;
  }

  private flush(): void {
    const channel = this.channel;
    while (channel && this.writable && this.waitingHead < this.waiting.length && this.unconfirmed.size < this.maxUnconfirmed) {
      const message = this.waiting[this.waitingHead++];
      this.unconfirmed.add(message);
      try {
        this.writable = channel.publish(message.exchange, message.routingKey, message.content, message.options, (error: Error | null) =>
          this.settle(message, error),
        );
      } catch (error) {
        this.unconfirmed.delete(message);
        if (error instanceof Error && error.name === 'IllegalOperationError') {
          // The channel is closing; the message goes out on the next one.
          this.waitingHead--;
          return;
        }
        message.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    if (this.waitingHead > 1_024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
  }

  private settle(message: Outgoing, error: Error | null): void {
    // amqplib fails every unconfirmed callback with 'channel closed' just before the channel's close event;
    // such a message stays unconfirmed and detach() sends it again on the next channel.
    if (error?.message === CHANNEL_CLOSED) return;
    if (!this.unconfirmed.delete(message)) return;
    const wasReturned = this.returned.delete(message.options.messageId);
    this.watchNacks(error !== null);
    if (error) message.reject(new MessageNackedError(message.exchange, message.routingKey));
    else if (wasReturned) message.reject(new UnroutableMessageError(message.exchange, message.routingKey));
    else message.resolve();
    this.flush();
  }

  private watchNacks(nacked: boolean): void {
    if (!nacked) {
      this.nackedSince = undefined;
      return;
    }
    const now = Date.now();
    this.nackedSince ??= now;
    if (now - this.nackedSince < this.stuckAfterMs || !this.channel) return;
    this.nackedSince = undefined;
    this.onStuck(this.channel);
  }
}
