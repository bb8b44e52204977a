/**
 * HDX's sample uploads, files the geopreview tests make for themselves, a tiny zip writer that can write hostile
 * archives, and a file server.
 */
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import gdal from 'gdal-async';

/** HDX's sample uploads, kept in test/fixtures/geofiles: the tests know each one's fields and bounding box. */
export const HDX_FIXTURES = ['test.geojson', 'test.kml', 'test.shp.zip', 'test2.shp.zip'] as const;
export type HdxFixture = (typeof HDX_FIXTURES)[number];

const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'geofiles');

/** A fixture's bytes. One that is missing fails the test that reads it (ENOENT), never skips it. */
export const hdxFixture = (name: HdxFixture): Promise<Buffer> => readFile(join(FIXTURES_DIR, name));

export interface ZipEntrySpec {
  name: string;
  data: Buffer | string;
  /** Unix mode, e.g. 0o120777 for a symbolic link. */
  mode?: number;
  deflate?: boolean;
}

/** A zip archive exactly as given: names are not cleaned, so it can hold `../evil`, `/abs` or links. */
export function zip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const data = Buffer.isBuffer(entry.data) ? entry.data : Buffer.from(entry.data);
    const stored = entry.deflate ? deflateRawSync(data, { level: 9 }) : data;
    const method = entry.deflate ? 8 : 0;
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((entry.mode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, stored);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const centralSize = centrals.reduce((sum, part) => sum + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

/** Every file under a folder as zip entries, under `prefix/`. */
export async function zipFolder(folder: string, prefix = ''): Promise<ZipEntrySpec[]> {
  const entries: ZipEntrySpec[] = [];
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else entries.push({ name: `${prefix}${relative(folder, path)}`, data: await readFile(path), deflate: true });
    }
  };
  if ((await stat(folder)).isDirectory()) await walk(folder);
  return entries;
}

export interface PointRow {
  lon: number;
  lat: number;
  name: string;
}

export const SAMPLE_POINTS: PointRow[] = [
  { lon: 2.35, lat: 48.85, name: 'Paris' },
  { lon: -0.12, lat: 51.5, name: 'London' },
  { lon: 13.4, lat: 52.52, name: 'Berlin' },
];

export function geojson(points: PointRow[] = SAMPLE_POINTS): string {
  return JSON.stringify({
    type: 'FeatureCollection',
    features: points.map((point) => ({ type: 'Feature', properties: { name: point.name }, geometry: { type: 'Point', coordinates: [point.lon, point.lat] } })),
  });
}

export function kml(points: PointRow[] = SAMPLE_POINTS, prolog = ''): string {
  const placemarks = points
    .map((point) => `<Placemark><name>${point.name}</name><Point><coordinates>${point.lon},${point.lat},0</coordinates></Point></Placemark>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>${prolog}<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>cities</name>${placemarks}</Document></kml>`;
}

/** Writes vector layers with GDAL in any format it can write (GPKG, ESRI Shapefile, OpenFileGDB). */
export function writeLayers(driver: string, path: string, layers: { name: string; points: PointRow[]; srs?: boolean }[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const dataset = gdal.drivers.get(driver).create(path);
  for (const spec of layers) {
    const layer = dataset.layers.create(spec.name, spec.srs === false ? null : gdal.SpatialReference.fromEPSG(4326), gdal.wkbPoint);
    layer.fields.add(new gdal.FieldDefn('name', gdal.OFTString));
    for (const point of spec.points) {
      const feature = new gdal.Feature(layer);
      feature.fields.set('name', point.name);
      feature.setGeometry(new gdal.Point(point.lon, point.lat));
      layer.features.add(feature);
    }
  }
  dataset.close();
}

export async function freshFolder(path: string): Promise<string> {
  await rm(path, { recursive: true, force: true });
  await mkdir(path, { recursive: true });
  return path;
}

export type Route = Buffer | string | ((response: ServerResponse, headers: IncomingHttpHeaders) => void);

/** An HTTP server of test files on 127.0.0.1, recording the headers of each request. */
export class FileServer {
  readonly routes = new Map<string, Route>();
  readonly requests: { path: string; headers: IncomingHttpHeaders }[] = [];
  private server!: Server;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      this.requests.push({ path, headers: request.headers });
      const route = this.routes.get(path);
      if (route === undefined) {
        response.writeHead(404).end('not found');
      } else if (typeof route === 'function') {
        route(response, request.headers);
      } else {
        const body = Buffer.isBuffer(route) ? route : Buffer.from(route);
        response.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' }).end(body);
      }
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path: string, host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
