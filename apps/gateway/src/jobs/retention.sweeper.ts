import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource, type EntityManager } from 'typeorm';
import { LOGGER, PeriodicTask, STORAGE, storageKeyOf, type Storage } from '#shared';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { JobsRepository } from './jobs.repository.js';

const BATCH = 100;

interface ExpiringJob {
  id: string;
  file: string;
}

/**
 * Retention: a job whose result is a file (an export's ZIP, or any other job's `file`) keeps it for
 * GEOJOBS_EXPORT_RETENTION_HOURS after it finished; then the file is removed from storage and the job becomes
 * `expired` (its `GET /jobs/:id/result` answers 410). Jobs are claimed with SKIP LOCKED, so any number of gateways
 * may sweep at once. A file that a job still in retention also names (an export reused from the step cache) stays
 * until the last of them expires.
 */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(JobsRepository) private readonly jobs: JobsRepository,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.task = new PeriodicTask('retention sweep', config.GEOJOBS_RETENTION_SWEEP_MS, async () => void (await this.sweep()), logger);
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** Expires the jobs past their retention, a batch at a time; returns how many. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const expired = await this.db.transaction((manager) => this.expireBatch(manager));
      total += expired;
      if (expired < BATCH) return total;
    }
  }

  private async expireBatch(manager: EntityManager): Promise<number> {
    const retentionSeconds = this.config.GEOJOBS_EXPORT_RETENTION_HOURS * 3_600;
    const due: ExpiringJob[] = await manager.query(
      `SELECT id, result->>'file' AS file FROM jobs.jobs
        WHERE state = 'succeeded' AND jsonb_typeof(result->'file') = 'string'
          AND finished_at < now() - make_interval(secs => $1)
        ORDER BY finished_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [retentionSeconds, BATCH],
    );
    if (due.length === 0) return 0;
    const stillNamed: { file: string }[] = await manager.query(
      `SELECT DISTINCT result->>'file' AS file FROM jobs.jobs
        WHERE state = 'succeeded' AND result->>'file' = ANY($1::text[]) AND NOT (id = ANY($2::uuid[]))`,
      [due.map((job) => job.file), due.map((job) => job.id)],
    );
    const kept = new Set(stillNamed.map((row) => row.file));
    for (const file of new Set(due.map((job) => job.file))) {
      if (kept.has(file)) continue;
      const key = this.keyOf(file);
      // removed before the jobs are marked: a crash in between leaves a job to expire again, never a file nobody owns
      if (key) await this.storage.delete(key);
    }
    const expired = await this.jobs.expire(
      due.map((job) => job.id),
      manager,
    );
    this.logger.info({ jobs: expired.length }, 'expired result files past their retention');
    return due.length;
  }

  /** The storage key a result names (a key, or a `storage://` URI); undefined for a file elsewhere (a convert's bucket). */
  private keyOf(file: string): string | undefined {
    try {
      return storageKeyOf(file) ?? (/^[a-z][a-z0-9+.-]*:\/\//i.test(file) ? undefined : file);
    } catch {
      return undefined;
    }
  }
}
