import type { OutputRow } from '../outputs/outputs.repository.js';
import { buildDataPackage, DATAPACKAGE_PROFILE, profileErrors, provenanceLog } from './datapackage.js';

const HASH = `sha256:${'ab'.repeat(32)}`;

const output = (processor: string, files: string[], version = 'version_1'): OutputRow => ({
  boundary: 'gambia',
  processor,
  version,
  state: 'succeeded',
  job_id: '7d3f8c1e-3a5b-4c9d-8e2f-1a2b3c4d5e6f',
  files: files.map((name) => ({
    path: `packages/gambia/${processor}/${version}/${name}`,
    name,
    format: name.split('.').pop()!,
    mediatype: 'application/octet-stream',
    bytes: 42,
    hash: HASH,
  })),
  source: `layers.pre_roads_0`,
  error: null,
  started_at: new Date('2026-01-01T00:00:00Z'),
  finished_at: new Date('2026-01-01T00:01:00Z'),
});

describe('buildDataPackage', () => {
  const outputs = [output('boundary', ['boundary.geojson', 'boundary.gpkg']), output('vector_clip', ['vector_clip.gpkg', 'vector_clip.csv'])];

  it('lists every file of every output as a resource, with its path under the package, size, sha256 hash, license and source', () => {
    const datapackage = buildDataPackage({ name: 'gambia', nameLong: 'The Gambia' }, outputs, new Date('2026-01-02T00:00:00Z'));
    expect(datapackage).toMatchObject({ $schema: DATAPACKAGE_PROFILE, name: 'gambia', title: 'The Gambia', created: '2026-01-02T00:00:00.000Z' });
    expect(datapackage.resources.map((resource) => resource.path)).toEqual([
      'boundary/version_1/boundary.geojson',
      'boundary/version_1/boundary.gpkg',
      'vector_clip/version_1/vector_clip.gpkg',
      'vector_clip/version_1/vector_clip.csv',
    ]);
    expect(datapackage.resources[2]).toMatchObject({ name: 'vector_clip-version_1-vector_clip.gpkg', bytes: 42, hash: HASH, format: 'gpkg' });
    expect(datapackage.resources[2].licenses[0].name).toBe('ODbL-1.0');
    expect(datapackage.resources[2].sources[0].title).toBe('layers.pre_roads_0');
    expect(datapackage.licenses.map((license) => license.name)).toEqual(['ODbL-1.0']);
  });

  it('is valid against the kept Data Package v2 profile', () => {
    expect(profileErrors(buildDataPackage({ name: 'gambia', nameLong: 'The Gambia' }, outputs, new Date()))).toEqual([]);
  });

  it('leaves out outputs of processor versions that are no longer in the manifest', () => {
    const datapackage = buildDataPackage(
      { name: 'gambia', nameLong: 'The Gambia' },
      [...outputs, output('vector_clip', ['old.gpkg'], 'version_0')],
      new Date(),
    );
    expect(datapackage.resources.map((resource) => resource.name)).not.toContain('vector_clip-version_0-old.gpkg');
  });
});

describe('profileErrors', () => {
  it('refuses a descriptor the profile refuses: no resources, a hash that is not <algorithm>:<hex>, a path that climbs out', () => {
    expect(profileErrors({ name: 'x', resources: [] })).not.toEqual([]);
    expect(profileErrors({ resources: [{ name: 'a', path: 'a.csv', hash: 'sha256:not-hex' }] }).join(' ')).toMatch(/hash/);
    expect(profileErrors({ resources: [{ name: 'a', path: '../a.csv' }] }).join(' ')).toMatch(/path/);
  });
});

describe('provenanceLog', () => {
  it('says which processor version made which file, when, from what', () => {
    expect(provenanceLog([output('vector_clip', ['vector_clip.csv'])])).toEqual([
      {
        file: 'vector_clip/version_1/vector_clip.csv',
        processor: 'vector_clip.version_1',
        version: 'version_1',
        jobId: '7d3f8c1e-3a5b-4c9d-8e2f-1a2b3c4d5e6f',
        madeAt: '2026-01-01T00:01:00.000Z',
        source: 'layers.pre_roads_0',
        bytes: 42,
        hash: HASH,
      },
    ]);
  });
});
