/**
 * What the convert tests share: databases they make with gdal-async (a GeoPackage of several layers, an SQLite
 * database, a zipped FileGDB, a zipped shapefile), a way to read the ZIP a convert wrote, and an RFC 4180 reader.
 */
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import gdal from 'gdal-async';
import yauzl from 'yauzl';
import { freshFolder, zip, zipFolder } from '../geo/geo-files.js';

/** A field of a fixture layer, and the text its CSV column must hold for each row. */
export interface FixtureField {
  name: string;
  type: string;
}

export interface FixtureLayer {
  name: string;
  geometry: number;
  fields: FixtureField[];
  /** Values as given to GDAL (strings for dates), null for NULL; `wkt` the geometry. */
  rows: { values: (string | number | null)[]; wkt?: string }[];
}

/** The GeoPackage's layers: quotes, slashes and accents in names, NULLs, dates, timestamps, a table without geometry. */
export const GPKG_LAYERS: FixtureLayer[] = [
  {
    name: 'roads',
    geometry: gdal.wkbLineString,
    fields: [
      { name: 'name', type: gdal.OFTString },
      { name: 'lanes', type: gdal.OFTInteger },
      { name: 'opened', type: gdal.OFTDate },
      { name: 'length', type: gdal.OFTReal },
      { name: 'seen', type: gdal.OFTDateTime },
    ],
    rows: [
      { values: ['Avenida Brasil', 6, '1946-05-10', 58.5, '2024-01-02T03:04:05Z'], wkt: 'LINESTRING (-43.2 -22.9,-43.5 -22.8)' },
      { values: ['Rua "Direita", centro', null, null, null, null], wkt: 'LINESTRING (0 0,1 1)' },
      { values: ['Linha\r\nVermelha', 3, '1992-04-30', 0.25, '1999-12-31T23:59:59Z'], wkt: 'LINESTRING (1 2,3 4,5 6)' },
    ],
  },
  {
    name: 'Lugares "SP" / Rio',
    geometry: gdal.wkbPoint,
    fields: [
      { name: 'nome da cidade', type: gdal.OFTString },
      { name: 'população', type: gdal.OFTInteger64 },
    ],
    rows: [
      { values: ['São Paulo', 12325232], wkt: 'POINT (-46.63 -23.55)' },
      { values: ['Niterói', 481749], wkt: 'POINT (-43.1 -22.88)' },
    ],
  },
  {
    name: 'notes',
    geometry: gdal.wkbNone,
    fields: [{ name: 'text', type: gdal.OFTString }],
    rows: [{ values: ['a,b "c"'] }, { values: [null] }],
  },
];

/** The CSV text of a fixture value: what the convert must write for it. */
export const csvText = (value: string | number | null): string => (value === null ? '' : String(value));

function writeLayer(dataset: gdal.Dataset, spec: FixtureLayer, options: string[] = []): void {
  const srs = spec.geometry === gdal.wkbNone ? null : gdal.SpatialReference.fromEPSG(4326);
  const layer = dataset.layers.create(spec.name, srs, spec.geometry, options);
  for (const field of spec.fields) layer.fields.add(new gdal.FieldDefn(field.name, field.type));
  for (const row of spec.rows) {
    const feature = new gdal.Feature(layer);
    spec.fields.forEach((field, index) => {
      const value = row.values[index];
      if (value !== null) feature.fields.set(field.name, value);
    });
    if (row.wkt) feature.setGeometry(gdal.Geometry.fromWKT(row.wkt));
    layer.features.add(feature);
  }
}

/** Writes layers with a GDAL driver (GPKG, SQLite, OpenFileGDB, ESRI Shapefile) to `path`. */
export function writeDatabase(driver: string, path: string, layers: FixtureLayer[], layerOptions: string[] = []): void {
  mkdirSync(dirname(path), { recursive: true });
  const dataset = gdal.drivers.get(driver).create(path);
  for (const spec of layers) writeLayer(dataset, spec, layerOptions);
  dataset.close();
}

/** The SQLite database's layers: one spatial, one not. */
export const SQLITE_LAYERS: FixtureLayer[] = [
  {
    name: 'cities',
    geometry: gdal.wkbPoint,
    fields: [
      { name: 'name', type: gdal.OFTString },
      { name: 'rank', type: gdal.OFTInteger },
    ],
    rows: [
      { values: ['Recife', 9], wkt: 'POINT (-34.88 -8.05)' },
      { values: ['Manaus', 7], wkt: 'POINT (-60.02 -3.12)' },
    ],
  },
  { name: 'meta', geometry: gdal.wkbNone, fields: [{ name: 'key', type: gdal.OFTString }], rows: [{ values: ['version 1'] }] },
];

/** The FileGDB's layers (FileGDB has no plain Date type: text and numbers only). */
export const GDB_LAYERS: FixtureLayer[] = [
  {
    name: 'parcels',
    geometry: gdal.wkbPolygon,
    fields: [
      { name: 'code', type: gdal.OFTString },
      { name: 'area', type: gdal.OFTReal },
    ],
    rows: [
      { values: ['P-1', 1.5], wkt: 'POLYGON ((0 0,0 1,1 1,1 0,0 0))' },
      { values: ['P-2', null], wkt: 'POLYGON ((10 10,10 12,12 12,12 10,10 10))' },
    ],
  },
  {
    name: 'wells',
    geometry: gdal.wkbPoint,
    fields: [{ name: 'depth', type: gdal.OFTInteger }],
    rows: [{ values: [120], wkt: 'POINT (5 5)' }],
  },
];

export const SHP_LAYER: FixtureLayer = {
  name: 'bairros',
  geometry: gdal.wkbPoint,
  fields: [
    { name: 'nome', type: gdal.OFTString },
    { name: 'criado', type: gdal.OFTDate },
  ],
  rows: [
    { values: ['Copacabana', '1892-07-06'], wkt: 'POINT (-43.18 -22.97)' },
    { values: ['Méier', null], wkt: 'POINT (-43.28 -22.9)' },
  ],
};

export interface Fixtures {
  gpkg: Buffer;
  sqlite: Buffer;
  gdbZip: Buffer;
  shpZip: Buffer;
}

/** Every fixture database, made under `folder`. */
export async function makeFixtures(folder: string): Promise<Fixtures> {
  await freshFolder(folder);
  writeDatabase('GPKG', join(folder, 'several.gpkg'), GPKG_LAYERS);
  writeDatabase('SQLite', join(folder, 'plain.sqlite'), SQLITE_LAYERS);
  writeDatabase('OpenFileGDB', join(folder, 'gdb', 'cadastre.gdb'), GDB_LAYERS);
  writeDatabase('ESRI Shapefile', join(folder, 'shp', 'bairros.shp'), [SHP_LAYER], ['ENCODING=UTF-8']);
  return {
    gpkg: await readFile(join(folder, 'several.gpkg')),
    sqlite: await readFile(join(folder, 'plain.sqlite')),
    gdbZip: zip(await zipFolder(join(folder, 'gdb'))),
    shpZip: zip(await zipFolder(join(folder, 'shp'))),
  };
}

/**
 * A GeoPackage of one table of `rows` points, made by GDAL's own translate from an SQL series (a test that needs a
 * table large enough to cancel half-way makes it in a second or two).
 */
export async function bigGeoPackage(path: string, rows: number): Promise<void> {
  const memory = gdal.drivers.get('Memory').create('big');
  const sql = `WITH RECURSIVE series(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM series WHERE i < ${rows})
    SELECT i AS code, 'row number ' || i AS label, MakePoint(i % 360 - 180.0, i % 180 - 90.0, 4326) AS geom FROM series`;
  await gdal.vectorTranslateAsync(path, memory, ['-f', 'GPKG', '-dialect', 'SQLite', '-sql', sql, '-nln', 'big', '-nlt', 'POINT', '-gt', '65536']);
  memory.close();
}

/** Every entry of a ZIP, by name. */
export async function readZip(path: string): Promise<Map<string, Buffer>> {
  const archive = await yauzl.openPromise(path, { lazyEntries: true });
  const entries = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    archive.on('entry', (entry: yauzl.Entry) => {
      archive
        .openReadStreamPromise(entry)
        .then(async (stream) => {
          const chunks: Buffer[] = [];
          for await (const chunk of stream) chunks.push(chunk as Buffer);
          entries.set(entry.fileName, Buffer.concat(chunks));
          archive.readEntry();
        })
        .catch(reject);
    });
    archive.once('end', resolve);
    archive.once('error', reject);
    archive.readEntry();
  });
  archive.close();
  return entries;
}

/** RFC 4180 records (CRLF between them, quoted fields may hold commas, quotes and line breaks). */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || record.length > 0) throw new Error(`the CSV does not end with CRLF: ${JSON.stringify(text.slice(-40))}`);
  return records;
}

/** A zip bomb: one entry of `megabytes` MB of zeros, a few KB compressed. */
export const zipBomb = (megabytes: number): Buffer => zip([{ name: 'bomb.shp', data: Buffer.alloc(megabytes * 1024 * 1024), deflate: true }]);
