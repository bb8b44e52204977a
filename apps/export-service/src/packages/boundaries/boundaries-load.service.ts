import { dirname, join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import gdal from 'gdal-async';
import { JobFailure, STORAGE, type Envelope, type Storage, type JobContext, type JobResult, type PackageBoundariesLoadV1 } from '#shared';
import { withScratchDir } from '#shared/pipeline/scratch-dir';
import { EXPORT_CONFIG, type ExportConfig } from '../../config/export.config.js';
import { BoundariesRepository, type NewBoundary } from './boundaries.repository.js';
import { boundaryName } from './boundary-name.js';

const POLYGONAL = new Set([gdal.wkbPolygon, gdal.wkbMultiPolygon, gdal.wkbPolygon25D, gdal.wkbMultiPolygon25D]);

const failure = (message: string) => new JobFailure({ type: 'boundaries', class: 'BoundariesFileError', message });

/**
 * `package.boundaries.load`: reads every feature of a GDAL-readable file from storage (`boundaries/…`), maps its
 * fields to name / long name / admin level, reprojects to EPSG:4326 and replaces the boundaries of those names — all
 * or nothing, in one transaction.
 */
@Injectable()
export class BoundariesLoadService {
  constructor(
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(BoundariesRepository) private readonly boundaries: BoundariesRepository,
    @Inject(EXPORT_CONFIG) private readonly config: ExportConfig,
  ) {}

  async load({ payload }: Envelope<PackageBoundariesLoadV1>, job: JobContext): Promise<JobResult> {
    if (!(await this.storage.stat(payload.file))) throw failure(`no file ${payload.file} in storage`);
    return withScratchDir(async (scratch) => {
      const path = join(scratch, payload.file.split('/').pop()!);
      await this.storage.download(payload.file, path, { signal: job.signal });
      let read: NewBoundary[];
      try {
        read = await this.read(path, payload, job);
      } catch (error) {
        // whatever GDAL makes of a bad file is the file's fault: the job fails saying so, it is not retried
        if (error instanceof JobFailure || job.signal.aborted) throw error;
        throw failure(`could not read ${payload.file}: ${(error as Error).message}`);
      }
      job.signal.throwIfAborted();
      await this.boundaries.replace(read);
      return { loaded: read.length, boundaries: read.map((boundary) => boundary.name) };
    }, this.config.GEOJOBS_EXPORT_SCRATCH_DIR);
  }

  /**
   * ogr2ogr first reprojects the file to RFC 7946 GeoJSON (EPSG:4326, longitude first, whatever axis order the source
   * SRS declares), then the features are read from that.
   */
  private async read(path: string, { file, layer: layerName, fields }: PackageBoundariesLoadV1, job: JobContext): Promise<NewBoundary[]> {
    const reprojected = join(dirname(path), 'boundaries-4326.geojson');
    let source: gdal.Dataset;
    try {
      source = await gdal.openAsync(file.toLowerCase().endsWith('.zip') ? `/vsizip/${path}` : path);
    } catch (error) {
      throw failure(`${file} is not a file GDAL can read: ${(error as Error).message}`);
    }
    try {
      const layer = layerName === undefined ? source.layers.get(0) : source.layers.get(layerName);
      if (!layer) throw failure(`${file} has no layer ${layerName ?? ''}`.trim());
      const names = layer.fields.getNames();
      for (const field of [fields.name, fields.nameLong, fields.adminLevel]) {
        if (field !== undefined && !names.includes(field)) throw failure(`${file} has no field ${field} (its fields: ${names.join(', ')})`);
      }
      const assume = layer.srs ? [] : ['-s_srs', 'EPSG:4326'];
      // closed at once, so that GDAL has written the file out before it is read
      (await gdal.vectorTranslateAsync(reprojected, source, ['-f', 'GeoJSON', ...assume, '-t_srs', 'EPSG:4326', '-lco', 'RFC7946=YES', layer.name])).close();
    } finally {
      source.close();
    }
    job.signal.throwIfAborted();

    const dataset = await gdal.openAsync(reprojected);
    try {
      const layer = dataset.layers.get(0);
      const total = layer.features.count();
      const read: NewBoundary[] = [];
      const seen = new Set<string>();
      let index = 0;
      for (let feature = layer.features.first(); feature; feature = layer.features.next()) {
        index++;
        job.signal.throwIfAborted();
        const raw = feature.fields.get(fields.name) as unknown;
        const name = boundaryName(raw);
        if (!name) throw failure(`feature ${index}: its ${fields.name} (${JSON.stringify(raw)}) makes no boundary name`);
        if (seen.has(name)) throw failure(`feature ${index}: a second boundary named ${name}`);
        seen.add(name);
        const geometry = feature.getGeometry();
        if (!geometry || !POLYGONAL.has(geometry.wkbType)) throw failure(`feature ${index} (${name}) is not a polygon`);
        read.push({
          name,
          nameLong: String((fields.nameLong ? feature.fields.get(fields.nameLong) : raw) ?? name),
          adminLevel: String((fields.adminLevel ? feature.fields.get(fields.adminLevel) : 0) ?? 0),
          wkb: geometry.toWKB(),
        });
        if (index % 50 === 0) await job.progress(index, total, `read ${index} of ${total} boundaries`);
      }
      if (read.length === 0) throw failure(`${file} holds no features`);
      return read;
    } finally {
      dataset.close();
    }
  }
}
