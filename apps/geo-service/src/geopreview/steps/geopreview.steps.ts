import type { DataSource } from 'typeorm';
import type { GeoPreviewV1, Storage } from '#shared';
import type { DescribeService } from '../describe.service.js';
import type { DownloadService } from '../download.service.js';
import type { ImportService } from '../import.service.js';
import { SourceService, type SourceLayer } from '../source.service.js';
import type { UnpackService } from '../unpack.service.js';

/** A geopreview pipeline's input: the command, less who to tell (notifying is the service's, whatever the outcome). */
export type GeopreviewInput = Omit<GeoPreviewV1, 'notify'>;

/** What the steps work with. */
export interface GeopreviewDependencies {
  downloads: DownloadService;
  storage: Storage;
  unpack: UnpackService;
  sources: SourceService;
  imports: ImportService;
  descriptions: DescribeService;
  database: DataSource;
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
