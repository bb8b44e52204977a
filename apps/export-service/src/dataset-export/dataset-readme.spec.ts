import { datasetReadme } from './dataset-readme.js';

describe('datasetReadme', () => {
  it('names the dataset, each resource with its files, and each resource not in the archive with why', () => {
    const text = datasetReadme({
      datasetId: '6f1c',
      name: 'roads-of-the-region',
      title: 'Roads of the region',
      jobId: 'j1',
      exportedAt: new Date('2026-12-02T18:00:00Z'),
      formats: ['csv', 'gpkg'],
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
            formats: ['csv', 'gpkg'],
            files: [
              { path: 'roads.csv', bytes: 900, format: 'csv', layer: 'roads', features: 3 },
              { path: 'roads.gpkg', bytes: 90_000, format: 'gpkg', layer: 'roads', features: 3 },
            ],
            features: 3,
            notes: ['field "description" cut to 254 bytes in 1 feature'],
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
            notes: [],
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
        'GIS resources converted to: CSV (geometry as WKT), GeoPackage; other resources copied as they are.',
        '',
        'Resources in this archive: 2 of 3',
        '',
        'Roads/  Roads (resource r1): GeoJSON, converted (3 features)',
        '  source: roads.geojson, 2,048 bytes',
        '  Roads/roads.csv  CSV (geometry as WKT), layer roads, 3 features',
        '  Roads/roads.gpkg  GeoPackage, layer roads, 3 features',
        '  note: field "description" cut to 254 bytes in 1 feature',
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
