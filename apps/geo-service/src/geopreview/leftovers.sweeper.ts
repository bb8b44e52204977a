import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER, PeriodicTask, STORAGE, type Storage } from '#shared';
import { StagingTablesRepository } from './staging-tables.repository.js';
import { SHARED_PREFIX_ROOT } from './steps/share.step.js';

/**
 * A staging table or a shared upload this old belongs to a geopreview that never finished (its geo-service was
 * killed; a merge removes its shared upload even when the saga fails).
 */
const LEFTOVER_AGE_MS = 24 * 3_600_000;
const SWEEP_EVERY_MS = 3_600_000;

/**
 * Removes what geopreviews that never finished left: their staging tables and their shared uploads, at start and
 * hourly. Only what is older than a day goes, so those of geopreviews under way (on any geo-service) stay.
 */
@Injectable()
export class LeftoversSweeper implements OnModuleInit, OnApplicationShutdown {
  private readonly task: PeriodicTask;

  constructor(
    @Inject(StagingTablesRepository) private readonly staging: StagingTablesRepository,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.task = new PeriodicTask('leftovers sweep', SWEEP_EVERY_MS, () => this.sweep(), logger);
  }

  /** The first sweep is waited for: geo-service takes commands, and says it is up, once it has swept. */
  async onModuleInit(): Promise<void> {
    await this.sweep();
    this.task.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** Never rejects: a sweep that fails is logged, and the next one tries again. */
  private async sweep(): Promise<void> {
    try {
      const tables = await this.staging.sweep(LEFTOVER_AGE_MS);
      if (tables.length > 0) this.logger.warn({ tables }, 'dropped staging tables of imports that never finished');
      // a job's shared folder goes whole (as its merge removes it), once the newest file in it is that old
      const newest = new Map<string, number>();
      for await (const object of this.storage.list(SHARED_PREFIX_ROOT)) {
        const folder = object.key.slice(0, object.key.indexOf('/', SHARED_PREFIX_ROOT.length) + 1);
        newest.set(folder, Math.max(newest.get(folder) ?? 0, object.modifiedAt.getTime()));
      }
      const stale = [...newest].filter(([, modified]) => Date.now() - modified > LEFTOVER_AGE_MS).map(([folder]) => folder);
      for (const folder of stale) await this.storage.deletePrefix(folder);
      if (stale.length > 0) this.logger.warn({ folders: stale }, 'removed shared uploads of geopreviews that never finished');
    } catch (error) {
      this.logger.warn({ err: error }, 'could not look for what unfinished geopreviews left');
    }
  }
}
