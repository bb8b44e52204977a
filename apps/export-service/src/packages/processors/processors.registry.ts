import type { DataSource } from 'typeorm';
import { PROCESSORS, processorKey, type Storage } from '#shared';
import type { ExportConfig } from '../../config/export.config.js';
import { BoundaryProcessor } from './boundary/boundary.processor.js';
import type { PackageProcessor } from './processor.js';
import { RasterClipProcessor } from './raster-clip/raster-clip.processor.js';
import { VectorClipProcessor } from './vector-clip/vector-clip.processor.js';

/**
 * The code of every processor, by `<name>.<version>`. Checked against the shared manifest when the service starts: a
 * processor the gateway lists but export-service cannot run (or the reverse) stops the service at once.
 */
export function processorRegistry(database: DataSource, storage: Storage, config: ExportConfig): Map<string, PackageProcessor> {
  const processors: PackageProcessor[] = [
    new BoundaryProcessor(),
    new VectorClipProcessor(database, config.GEOJOBS_EXPORT_DATABASE_URL, config.GEOJOBS_PACKAGES_VECTOR_LAYER),
    new RasterClipProcessor(storage, config.GEOJOBS_PACKAGES_RASTER_SOURCE),
  ];
  const registry = new Map(processors.map((processor) => [processorKey(processor.manifest), processor]));
  const listed = PROCESSORS.map(processorKey);
  const missing = listed.filter((key) => !registry.has(key));
  const unlisted = [...registry.keys()].filter((key) => !listed.includes(key));
  if (missing.length > 0 || unlisted.length > 0 || registry.size !== processors.length) {
    throw new Error(`processors and their manifest disagree: no code for [${missing.join(', ')}], no manifest entry for [${unlisted.join(', ')}]`);
  }
  return registry;
}
