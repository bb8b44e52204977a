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
  /** Largest file taken from storage, as for downloads. */
  maxBytes: number;
}

/**
 * The GDAL datasets one run opened (its open step), for its import step: opening a GeoJSON scans it whole, so it
 * is opened once per run. Closed by whoever runs the pipeline when the run ends.
 */
export class OpenedLayers {
  private layers: SourceLayer[] = [];

  add(layers: SourceLayer[]): void {
    this.layers.push(...layers);
  }

  find(key: string): SourceLayer | undefined {
    return this.layers.find((layer) => layer.key === key);
  }

  close(): void {
    SourceService.closeAll(this.layers);
    this.layers = [];
  }
}

/** Whether a layer key or name names this layer (a command's `layer` may give either). */
export const selects = (layer: { key: string; name: string }, wanted: string): boolean => layer.key === wanted || layer.name === wanted;
