import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { STORAGE, type GeoPreviewV1, type Storage } from '#shared';
import { DescribeService } from '../describe.service.js';
import { DownloadService } from '../download.service.js';
import { ImportService } from '../import.service.js';
import { SourceService, type SourceLayer } from '../source.service.js';
import { UnpackService } from '../unpack.service.js';

/** A geopreview pipeline's input: the command, less who to tell (notifying is the service's, whatever the outcome). */
export type GeopreviewInput = Omit<GeoPreviewV1, 'notify'>;

/** What the steps work with: one provider, so the service that runs the pipeline injects it whole. */
@Injectable()
export class GeopreviewDependencies {
  constructor(
    @Inject(DownloadService) readonly downloads: DownloadService,
    @Inject(STORAGE) readonly storage: Storage,
    @Inject(UnpackService) readonly unpack: UnpackService,
    @Inject(SourceService) readonly sources: SourceService,
    @Inject(ImportService) readonly imports: ImportService,
    @Inject(DescribeService) readonly descriptions: DescribeService,
    @Inject(DataSource) readonly database: DataSource,
  ) {}
}

/**
 * The GDAL datasets one run opened (its open step), for its import step: opening a GeoJSON scans it whole, so it
 * is opened once per run. Closed by whoever runs the pipeline when the run ends — after any work still using them
 * has settled (a cancelled run is abandoned by the runner while its import winds down).
 */
export class OpenedLayers {
  private layers: SourceLayer[] = [];
  private readonly users = new Set<Promise<unknown>>();

  add(layers: SourceLayer[]): void {
    this.layers.push(...layers);
  }

  find(key: string): SourceLayer | undefined {
    return this.layers.find((layer) => layer.key === key);
  }

  /** Runs work that reads the datasets: they stay open until it settles. */
  use<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.users.add(settled);
    void settled.then(() => this.users.delete(settled));
    return work;
  }

  async close(): Promise<void> {
    await Promise.all(this.users);
    SourceService.closeAll(this.layers);
    this.layers = [];
  }
}

/** Whether a layer key or name names this layer (a command's `layer` may give either). */
export const selects = (layer: { key: string; name: string }, wanted: string): boolean => layer.key === wanted || layer.name === wanted;
