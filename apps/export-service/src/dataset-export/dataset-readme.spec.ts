import { datasetReadme } from './dataset-readme.js';

describe('datasetReadme', () => {
  it('names the dataset, each resource with its files, and each resource not in the archive with why', () => {
    const text = datasetReadme({
      datasetId: '6f1c',
      name: 'roads-of-the-region',
      title: 'Roads of the region',
      jobId: 'j1',
      exportedAt: new Date('2026-12-02T18:00:00Z'),
      formats: ['csv', 'shp'],
      exported: [
        {
          resource: { id: 'r1', name: 'Roads', url: 'https://x/roads.geojson', format: 'GeoJSON' },
          folder: 'r1',
          zipFolder: 'Roads',
          manifest: {
            resourceId: 'r1',
            jobId: 'jr1',
            handling: 'converted',
            source: { filename: 'roads.geojson', bytes: 2048, gis: 'geojson' },
            formats: ['csv', 'shp'],
            files: [
              { path: 'roads.csv', format: 'csv', layer: 'roads', features: 3, fields: ['WKT', 'name'], crs: 'EPSG:4326' },
              {
                path: 'roads_lines.shp',
                format: 'shp',
                layer: 'roads',
                features: 3,
                fields: ['name', 'descriptio'],
                crs: 'EPSG:4326',
                companions: ['roads_lines.dbf', 'roads_lines.cpg'],
                notes: ['field names cut to the 10 characters a DBF allows: description → descriptio'],
              },
            ],
            features: 3,
          },
        },
        {
          resource: { id: 'r2', name: 'Stations', url: 'https://x/stations.csv', format: 'CSV' },
          folder: 'r2',
          zipFolder: 'Stations',
          manifest: {
            resourceId: 'r2',
            jobId: 'jr2',
            handling: 'copied',
            source: { filename: 'stations.csv', bytes: 1234 },
            formats: ['csv', 'gpkg'],
            files: [{ path: 'stations.csv', bytes: 1234 }],
          },
        },
      ],
      failed: [{ id: 'r3', name: 'Broken link', url: 'https://x/gone.zip', error: 'x answered 404 Not Found' }],
    });
    expect(text).toBe(
      [
        'Dataset: Roads of the region (roads-of-the-region)',
        'Portal dataset: 6f1c',
        'Exported: 2026-12-02T18:00:00.000Z by geojobs (job j1)',
        'GIS resources converted to: CSV (geometry as WKT), Shapefile; other resources copied as they are.',
        '',
        'Resources in this archive: 2 of 3',
        '',
        'Roads/  Roads (resource r1): GeoJSON, converted (3 features)',
        '  source: roads.geojson, 2,048 bytes',
        '  Roads/roads.csv  CSV (geometry as WKT), layer roads, 3 features',
        '    fields: WKT, name',
        '    CRS: EPSG:4326',
        '  Roads/roads_lines.shp  Shapefile, layer roads, 3 features',
        '    with: roads_lines.dbf, roads_lines.cpg',
        '    fields: name, descriptio',
        '    CRS: EPSG:4326',
        '    note: field names cut to the 10 characters a DBF allows: description → descriptio',
        '',
        'Stations/  Stations (resource r2): CSV, copied as it is',
        '  source: stations.csv, 1,234 bytes',
        '  Stations/stations.csv  1,234 bytes',
        '',
        'Resources NOT in this archive: 1 of 3',
        '',
        'Broken link (resource r3)',
        '  url: https://x/gone.zip',
        '  why: x answered 404 Not Found',
        '',
      ].join('\n'),
    );
  });
});
