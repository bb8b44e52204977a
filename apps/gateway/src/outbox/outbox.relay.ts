import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { InjectDataSource } from '@nestjs/typeorm';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';
import { Broker, type Envelope, LOGGER } from '#shared';

const BATCH = 1_000;
const IDLE_POLL_MS = 200;

export const publishFailures = new Counter({
  name: 'geojobs_outbox_publish_failures_total',
  help: 'Outbox messages the broker did not confirm (they stay in the outbox and are sent again)',
});

/**
 * Publishes what the API wrote to the outbox, in the order written, with confirms; a row is deleted only
 * once the broker confirmed its message. While RabbitMQ is down the rows wait, so the API keeps accepting
 * jobs; they flow when it returns. Several gateways may run: each claims rows with SKIP LOCKED.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private wake: () => void = () => undefined;
  private kicked = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(Broker) private readonly broker: Broker,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  /** Something was just written: publish it now rather than at the next poll. */
  kick(): void {
    this.kicked = true;
    this.wake();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.kicked = false;
      let sent = 0;
      try {
        if (this.broker.connected) sent = await this.relayBatch();
      } catch (error) {
        publishFailures.inc();
        this.logger.warn({ err: error }, 'outbox relay failed; retrying');
      }
      if (sent < BATCH && !this.kicked)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, IDLE_POLL_MS);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
    }
  }

  private relayBatch(): Promise<number> {
    return this.db.transaction(async (manager) => {
      const rows: { id: string; exchange: string; envelope: Envelope<unknown> }[] = await manager.query(
        'SELECT id, exchange, envelope FROM jobs.outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
        [BATCH],
      );
      if (rows.length === 0) return 0;
      await Promise.all(rows.map((row) => this.broker.publishEnvelope(row.exchange, row.envelope)));
      await manager.query('DELETE FROM jobs.outbox WHERE id = ANY($1::bigint[])', [rows.map((row) => row.id)]);
      return rows.length;
    });
  }
}
