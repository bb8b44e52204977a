import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import gdal from 'gdal-async';
import type { DataSource } from 'typeorm';
import { findProcessor } from '#shared';
import { withPostgresDataset } from '../gdal-postgres.js';
import { ProcessorError, type PackageProcessor, type ProcessorOutput, type ProcessorRun } from '../processor.js';

interface LayerColumn {
  column_name: string;
  udt_name: string;
}

const quoted = (identifier: string): string => `"${identifier.replace(/"/g, '""')}"`;

/**
 * `vector_clip`: the configured previewed layer (a table of the layers schema, read through export-service's
 * read-only role) clipped to the boundary with ST_Intersection, as a GeoPackage and a CSV (geometry as WKT). Each
 * feature keeps its own dimension (ST_CollectionExtract), and features that only touch the boundary are left out.
 */
export class VectorClipProcessor implements PackageProcessor {
  readonly manifest = findProcessor('vector_clip.version_1')!;

  constructor(
    private readonly database: DataSource,
    private readonly databaseUrl: string,
    private readonly layer: string | undefined,
  ) {}

  async process({ boundary, scratch, progress, signal }: ProcessorRun): Promise<ProcessorOutput> {
    if (!this.layer) throw new ProcessorError('no layer is configured for vector_clip (GEOJOBS_PACKAGES_VECTOR_LAYER)');
    const columns = await this.database.query<LayerColumn[]>(
      `SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = 'layers' AND table_name = $1 ORDER BY ordinal_position`,
      [this.layer],
    );
    const geometry = columns.find((column) => column.udt_name === 'geometry');
    if (!geometry) throw new ProcessorError(`the configured layer ${this.layer} is not a previewed layer (no table with a geometry in the layers schema)`);
    const attributes = columns.filter((column) => column !== geometry).map((column) => `l.${quoted(column.column_name)}`);
    // the boundary's name matches BOUNDARY_NAME_PATTERN (letters, digits, ._-): safe inside a literal
    const sql = `SELECT * FROM (
        SELECT ${[...attributes, `ST_CollectionExtract(ST_Intersection(l.${quoted(geometry.column_name)}, b.geometry), ST_Dimension(l.${quoted(geometry.column_name)}) + 1) AS geom`].join(', ')}
        FROM layers.${quoted(this.layer)} l JOIN packages.boundaries b ON ST_Intersects(l.${quoted(geometry.column_name)}, b.geometry)
        WHERE b.name = '${boundary.name}'
      ) clipped WHERE NOT ST_IsEmpty(geom)`;

    const gpkg = join(scratch, 'vector_clip.gpkg');
    await progress(10, `clipping ${this.layer} to ${boundary.name}`);
    // each written dataset is closed at once: GDAL writes a file out only then
    await withPostgresDataset(this.databaseUrl, this.database, signal, async (source) =>
      (await gdal.vectorTranslateAsync(gpkg, source, ['-f', 'GPKG', '-sql', sql, '-nln', this.layer!, '-a_srs', 'EPSG:4326'])).close(),
    );
    signal.throwIfAborted();
    await progress(70, 'writing the CSV');
    const csv = join(scratch, 'vector_clip.csv');
    const written = await gdal.openAsync(gpkg);
    try {
      (await gdal.vectorTranslateAsync(csv, written, ['-f', 'CSV', '-lco', 'GEOMETRY=AS_WKT'])).close();
      // GDAL's CSV driver writes nothing for a layer of no features: a boundary the layer misses still gets its header
      if (!existsSync(csv)) await writeFile(csv, `${['WKT', ...written.layers.get(0).fields.getNames()].join(',')}\n`);
    } finally {
      written.close();
    }
    await progress(100, 'clipped');
    return {
      source: `layers.${this.layer}`,
      files: [
        { name: 'vector_clip.gpkg', format: 'gpkg', mediatype: 'application/geopackage+sqlite3' },
        { name: 'vector_clip.csv', format: 'csv', mediatype: 'text/csv' },
      ],
    };
  }
}
