import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '#shared';
import pg from 'pg';
import { Observable } from 'rxjs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { JOB_CHANGES_CHANNEL } from '../outbox/outbox.repository.js';

const RECONNECT_MS = 1_000;

/**
 * Hears every change of a job's row, whichever gateway made it: the writers announce the job id in the
 * same transaction (OutboxRepository.notifyJobChanges), and this LISTENs on one dedicated connection. Used by the SSE progress streams.
 */
@Injectable()
export class JobChangesListener implements OnModuleInit, OnApplicationShutdown {
  private client: pg.Client | null = null;
  private readonly subscribers = new Map<string, Set<() => void>>();
  private stopped = false;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.client?.end().catch(() => undefined);
  }

  /** Emits each time the job changes, until unsubscribed. */
  changes(jobId: string): Observable<void> {
    return new Observable<void>((subscriber) => {
      const listener = () => subscriber.next();
      const set = this.subscribers.get(jobId) ?? new Set();
      set.add(listener);
      this.subscribers.set(jobId, set);
      return () => {
        set.delete(listener);
        if (set.size === 0) this.subscribers.delete(jobId);
      };
    });
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.config.GEOJOBS_GATEWAY_DATABASE_URL });
    client.on('notification', (message) => {
      for (const listener of this.subscribers.get(message.payload ?? '') ?? []) listener();
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'job changes listener lost its connection; reconnecting');
      client.end().catch(() => undefined);
      this.reconnect();
    });
    await client.connect();
    await client.query(`LISTEN ${JOB_CHANGES_CHANNEL}`);
    this.client = client;
    // Anything that changed while we were away: let every stream re-read its job.
    for (const listeners of this.subscribers.values()) for (const listener of listeners) listener();
  }

  /** Tries again every second until the database answers (it may be down for a while: a restart, a failover). */
  private reconnect(): void {
    if (this.stopped) return;
    setTimeout(() => {
      this.connect().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'job changes listener could not reconnect yet');
        this.reconnect();
      });
    }, RECONNECT_MS).unref();
  }
}
