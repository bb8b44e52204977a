import type { Channel, ConsumeMessage } from 'amqplib';

/**
 * Acks the messages of one channel, coalescing them: messages settled in the same tick are acked together,
 * the settled run at the front of the delivery order with one `multiple` ack, any settled behind a message
 * still being handled one by one — so a long handler never holds back the acks (and prefetch slots) of the
 * messages after it.
 */
export class AckBatcher {
  /** Delivery tags in delivery order, each with whether its message is settled. */
  private outstanding: { tag: number; settled: boolean }[] = [];
  private readonly byTag = new Map<number, { tag: number; settled: boolean }>();
  private scheduled = false;
  private closed = false;

  constructor(private readonly channel: Channel) {
    channel.once('close', () => (this.closed = true));
  }

  delivered(message: ConsumeMessage): void {
    const entry = { tag: message.fields.deliveryTag, settled: false };
    this.outstanding.push(entry);
    this.byTag.set(entry.tag, entry);
  }

  settle(message: ConsumeMessage): void {
    const entry = this.byTag.get(message.fields.deliveryTag);
    if (!entry) return;
    entry.settled = true;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Hands a message back to the queue at once (nack with requeue); the delivery limit stops endless loops. */
  requeue(message: ConsumeMessage): void {
    const entry = this.byTag.get(message.fields.deliveryTag);
    if (!entry || this.closed) return;
    this.byTag.delete(entry.tag);
    this.outstanding = this.outstanding.filter((candidate) => candidate !== entry);
    try {
      this.channel.nack(message, false, true);
    } catch {
      // closing: the broker requeues it anyway
    }
  }

  private flush(): void {
    this.scheduled = false;
    // The channel closed under us: the broker redelivers the unacked messages, and handlers are idempotent.
    if (this.closed) return;
    let front = 0;
    while (front < this.outstanding.length && this.outstanding[front].settled) front++;
    const remaining: typeof this.outstanding = [];
    try {
      if (front > 0) this.channel.ack(tagged(this.outstanding[front - 1].tag), front > 1);
      for (let i = front; i < this.outstanding.length; i++) {
        const entry = this.outstanding[i];
        if (entry.settled) this.channel.ack(tagged(entry.tag));
        else remaining.push(entry);
      }
    } catch {
      return; // closing; as above
    }
    for (const entry of this.outstanding) if (entry.settled) this.byTag.delete(entry.tag);
    this.outstanding = remaining;
  }
}

/** amqplib acks by delivery tag; a message-shaped object carrying just the tag is all it reads. */
const tagged = (deliveryTag: number) => ({ fields: { deliveryTag } }) as ConsumeMessage;
