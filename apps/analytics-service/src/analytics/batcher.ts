export interface BatcherOptions<T> {
  /** A batch is sent as soon as it holds this many items. */
  maxSize: number;
  /** A batch not yet full is sent this long after its first item arrived. */
  delayMs: number;
  /** Items of different keys never share a batch (a Mixpanel project and endpoint, a GA4 client id). */
  keyOf: (item: T) => string;
  /** Sends one batch; resolving settles every item of it, rejecting fails them all. */
  send: (key: string, items: T[]) => Promise<void>;
}

interface Entry<T> {
  item: T;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Buffer<T> {
  entries: Entry<T>[];
  timer: NodeJS.Timeout;
}

/**
 * Gathers items from many callers into batches, by key, and sends a batch when it is full or its delay is up.
 * `add` resolves when the batch holding the item was sent: a broker handler awaiting it acks its message only
 * once the destination accepted the events. Nothing here limits how many items wait: the caller bounds that
 * (the broker's prefetch bounds the messages, and so the events, held at once).
 */
export class Batcher<T> {
  private readonly buffers = new Map<string, Buffer<T>>();
  private readonly sending = new Set<Promise<void>>();
  private waiting = 0;

  constructor(private readonly options: BatcherOptions<T>) {}

  /** Items added and not yet settled: waiting in a batch or being sent. */
  get pending(): number {
    return this.waiting;
  }

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const key = this.options.keyOf(item);
      let buffer = this.buffers.get(key);
      if (!buffer) {
        buffer = { entries: [], timer: setTimeout(() => this.flush(key), this.options.delayMs) };
        this.buffers.set(key, buffer);
      }
      buffer.entries.push({ item, resolve, reject });
      this.waiting += 1;
      if (buffer.entries.length >= this.options.maxSize) this.flush(key);
    });
  }

  /** Sends every batch now and waits for all sends, for a graceful stop. */
  async flushAll(): Promise<void> {
    for (const key of [...this.buffers.keys()]) this.flush(key);
    await Promise.allSettled([...this.sending]);
  }

  private flush(key: string): void {
    const buffer = this.buffers.get(key);
    if (!buffer) return;
    this.buffers.delete(key);
    clearTimeout(buffer.timer);
    const { entries } = buffer;
    const sent = this.send(key, entries).finally(() => {
      this.waiting -= entries.length;
      this.sending.delete(sent);
    });
    this.sending.add(sent);
  }

  private async send(key: string, entries: Entry<T>[]): Promise<void> {
    try {
      await this.options.send(
        key,
        entries.map((entry) => entry.item),
      );
      for (const entry of entries) entry.resolve();
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const entry of entries) entry.reject(failure);
    }
  }
}
