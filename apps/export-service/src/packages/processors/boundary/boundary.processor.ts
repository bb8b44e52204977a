import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import gdal from 'gdal-async';
import { BOUNDARY_PROCESSOR } from '#shared';
import type { PackageProcessor, ProcessorOutput, ProcessorRun } from '../processor.js';

/** `boundary` (internal, runs first): the boundary itself, as GeoJSON and as a GeoPackage. */
export class BoundaryProcessor implements PackageProcessor {
  readonly manifest = BOUNDARY_PROCESSOR;

  async process({ boundary, scratch, progress, signal }: ProcessorRun): Promise<ProcessorOutput> {
    const properties = { name: boundary.name, name_long: boundary.nameLong, admin_level: boundary.adminLevel };
    await writeFile(
      join(scratch, 'boundary.geojson'),
      JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties, geometry: boundary.geometry }] }),
      { signal },
    );
    await progress(50, 'wrote boundary.geojson');

    const dataset = await gdal.drivers.get('GPKG').createAsync(join(scratch, 'boundary.gpkg'), 0, 0, 0);
    try {
      const layer = dataset.layers.create('boundary', gdal.SpatialReference.fromEPSG(4326), gdal.wkbMultiPolygon);
      for (const name of Object.keys(properties)) layer.fields.add(new gdal.FieldDefn(name, gdal.OFTString));
      const feature = new gdal.Feature(layer);
      feature.fields.set(properties);
      feature.setGeometry(gdal.Geometry.fromGeoJson(boundary.geometry));
      layer.features.add(feature);
    } finally {
      dataset.close();
    }
    await progress(100, 'wrote boundary.gpkg');
    return {
      source: `packages.boundaries (${boundary.name})`,
      files: [
        { name: 'boundary.geojson', format: 'geojson', mediatype: 'application/geo+json' },
        { name: 'boundary.gpkg', format: 'gpkg', mediatype: 'application/geopackage+sqlite3' },
      ],
    };
  }
}
