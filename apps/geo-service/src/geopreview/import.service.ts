import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '#shared';
import { canPromoteToMulti, GdalTranslationService, reprojectionTo4326, type ImportAttempt } from './gdal-translation.service.js';
import { LayerImportError } from './geopreview.errors.js';
import type { OpenedSource } from './source.service.js';
import { stagingTableName, StagingTablesRepository } from './staging-tables.repository.js';

export interface ImportResult {
  /** What had to be done to get the layer in: `promote-to-multi`, `assume-epsg-4326`, `latin1`. */
  recoveries: string[];
  /** Features outside longitude/latitude range, deleted. */
  droppedFeatures: number;
}

/** PostgreSQL's most columns in a table (MaxHeapAttributeNumber), less the two the import adds: the id and the geometry. */
export const MAX_LAYER_FIELDS = 1_600 - 2;

/**
 * Imports one layer into PostGIS, reprojected to EPSG:4326: GDAL copies it into a staging table of its own
 * (GdalTranslationService), which is then indexed, cleaned and swapped in for the layer's table
 * (StagingTablesRepository). A failed attempt is tried again with the next recovery.
 */
@Injectable()
export class ImportService {
  constructor(
    @Inject(GdalTranslationService) private readonly translation: GdalTranslationService,
    @Inject(StagingTablesRepository) private readonly staging: StagingTablesRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * A `signal` that fires stops the import where it is (GDAL's connection is terminated, index builds are
   * cancelled), drops the staging table and rejects with the abort reason: the layer's table is left as it was.
   */
  async importLayer(source: OpenedSource, table: string, signal?: AbortSignal): Promise<ImportResult> {
    signal?.throwIfAborted();
    // said up front: GDAL would only report that its translation stopped, after trying to create the table
    const fields = source.layer.fields.count();
    if (fields > MAX_LAYER_FIELDS) {
      throw new LayerImportError(
        `layer "${source.layer.name}" has more fields than a PostGIS table holds (${fields.toLocaleString('en-US')} read, at most ${MAX_LAYER_FIELDS.toLocaleString('en-US')})`,
      );
    }
    const recoveries: string[] = [];
    const srs = source.layer.srs;
    const reprojection = reprojectionTo4326(srs);
    if (srs === null) recoveries.push('assume-epsg-4326');
    // said in the log: a layer that comes out of range was often read in the wrong coordinate system
    this.logger.info(
      { table, layer: source.layer.name, srs: srs ? `${srs.getAuthorityName(null) ?? '?'}:${srs.getAuthorityCode(null) ?? '?'}` : null, reprojection },
      'importing layer',
    );

    const attempts = this.attempts(source.layer.geomType);
    let lastError: unknown;
    for (const attempt of attempts) {
      const staging = stagingTableName();
      try {
        await this.translation.translate(source, staging, attempt, reprojection, signal);
        const droppedFeatures = await this.staging.cleanAndSwap(staging, table, signal);
        if (attempt.promoteToMulti) recoveries.push('promote-to-multi');
        if (attempt.latin1) recoveries.push('latin1');
        return { recoveries, droppedFeatures };
      } catch (error) {
        await this.staging.drop(staging).catch(() => undefined);
        if (signal?.aborted) {
          // cancelled, not failed: no recovery is tried
          this.logger.info({ table, attempt }, 'import cancelled');
          signal.throwIfAborted();
        }
        // the layer itself is at fault (nothing to preview): no recovery changes that
        if (error instanceof LayerImportError) throw error;
        lastError = error;
        this.logger.info({ table, attempt, err: (error as Error).message }, 'import attempt failed');
      }
    }
    const reason = (lastError as Error).message.replace(/\s+/g, ' ').trim();
    throw new LayerImportError(`could not import layer "${source.layer.name}" into PostGIS: ${reason}`, { cause: lastError });
  }

  /** First as it is; then promoted to multi-geometries (when that can help); then read as latin1. */
  private attempts(geometryType: number): ImportAttempt[] {
    const promote = canPromoteToMulti(geometryType);
    const list: ImportAttempt[] = [{ promoteToMulti: false, latin1: false }];
    if (promote) list.push({ promoteToMulti: true, latin1: false });
    list.push({ promoteToMulti: promote, latin1: true });
    return list;
  }
}
