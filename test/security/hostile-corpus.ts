/**
 * The hostile-input corpus: every file is made here, when the suite runs (nothing binary is committed), and served by a
 * FileServer the way a hostile portal or file host would serve it. Each item names what is wrong with it; the suite
 * sends every item through every entry point that takes a file or a URL.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { geojson, kml, zip, type FileServer, type Route } from '../geo/geo-files.js';

/** The size cap the suite gives every service (GEOJOBS_GEO_MAX_DOWNLOAD_BYTES, GEOJOBS_EXPORT_MAX_DOWNLOAD_BYTES). */
export const HOSTILE_MAX_DOWNLOAD = 4 * 1024 * 1024;

export interface HostileItem {
  /** What is wrong with the file, as the test names it. */
  what: string;
  /** Its path on the file server; the extension is what the file claims to be. */
  path: string;
  /** The format label a portal would give it in `package_show` (what the publisher claimed). */
  label: string;
}

/**
 * A server that must never be reached: the loopback address 127.0.0.2, which the suite does not allow-list (only
 * 127.0.0.1 is). Redirects and external entities point here; it records whatever reaches it, so "refused" is told
 * apart from "could not connect".
 */
export class Sentinel {
  readonly requests: { path: string; headers: IncomingHttpHeaders }[] = [];
  private server!: Server;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      this.requests.push({ path: request.url ?? '/', headers: request.headers });
      response.writeHead(200, { 'content-type': 'application/json' }).end(geojson());
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.2', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.2:${this.port}${path}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A PNG's signature and IHDR chunk: what an image starts with. */
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('0000000d49484452000000100000001008060000001ff3ff61', 'hex'),
  Buffer.alloc(2048, 0),
]);

/** An SQLite header declaring 64 pages of 4 KiB, and only its first page sent. */
function truncatedGeoPackage(): Buffer {
  const page = Buffer.alloc(4096);
  page.write('SQLite format 3\0', 0, 'latin1');
  page.writeUInt16BE(4096, 16);
  page.writeUInt8(1, 18);
  page.writeUInt8(1, 19);
  page.writeUInt32BE(7, 24); // change counter
  page.writeUInt32BE(64, 28); // pages
  page.writeUInt32BE(7, 92); // version-valid-for = change counter: the page count is to be trusted
  page.writeUInt32BE(0x47504b47, 68); // application id "GPKG"
  return page;
}

/** A zipped shapefile cut in half in transit: the local headers are there, the central directory is not. */
function truncatedZip(): Buffer {
  const whole = zip([
    { name: 'roads.shp', data: Buffer.alloc(4000, 1), deflate: true },
    { name: 'roads.dbf', data: Buffer.alloc(4000, 2), deflate: true },
    { name: 'roads.shx', data: Buffer.alloc(4000, 3), deflate: true },
  ]);
  return whole.subarray(0, Math.floor(whole.length / 2));
}

/** `depth` nested arrays as a geometry's coordinates: a recursive parser runs out of stack long before the end. */
function deeplyNested(depth: number): string {
  return `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":${'['.repeat(depth)}0${']'.repeat(depth)}}}]}`;
}

/** Coordinates no place has: 1e308, "NaN" as a string, latitude 10,000, infinity spelled out. */
function absurdCoordinates(): string {
  const feature = (coordinates: unknown) => ({ type: 'Feature', properties: { name: JSON.stringify(coordinates) }, geometry: { type: 'Point', coordinates } });
  return JSON.stringify({
    type: 'FeatureCollection',
    features: [feature([1e308, 1e308]), feature(['NaN', 'NaN']), feature([10, 10_000]), feature([-1e308, 45]), feature(['Infinity', 0])],
  });
}

/** A CSV of `columns` columns (and a longitude and latitude), two rows. */
function wideCsv(columns: number): string {
  const names = ['longitude', 'latitude', ...Array.from({ length: columns }, (_, index) => `c${index}`)];
  const row = (lon: number, lat: number) => [lon, lat, ...Array.from({ length: columns }, (_, index) => index)].join(',');
  return `${names.join(',')}\n${row(2.35, 48.85)}\n${row(13.4, 52.52)}\n`;
}

/** KML that declares its entities after 70 KB of comment, past the 64 KB a quick look at the head would read. */
function paddedXxe(target: string): string {
  return kml(undefined, `<!--${' '.repeat(70 * 1024)}--><!DOCTYPE kml [<!ENTITY xxe SYSTEM "${target}">]>`).replace('<name>cities', '<name>&xxe;');
}

/** The classic billion laughs: ten levels of ten references each, 10^9 "lol"s once expanded. */
function billionLaughs(): string {
  const levels = ['<!ENTITY lol0 "lol">'];
  for (let level = 1; level <= 9; level++) levels.push(`<!ENTITY lol${level} "${`&lol${level - 1};`.repeat(10)}">`);
  return kml(undefined, `<!DOCTYPE kml [${levels.join('')}]>`).replace('<name>cities', '<name>&lol9;');
}

/** A zip of `count` empty files: an archive bomb by entry count. */
function manyEntries(count: number): Buffer {
  return zip(Array.from({ length: count }, (_, index) => ({ name: `f${index}.txt`, data: '' })));
}

/**
 * A zipped "shapefile" whose .dbf expands to `bytes` of spaces (a thousand times its compressed size): what a bomb meant
 * for a converter looks like — it names real shapefile parts, so nothing stops at "there is no shapefile in here".
 */
function shapefileBomb(bytes: number): Buffer {
  const header = Buffer.alloc(100);
  header.writeUInt32BE(9994, 0);
  header.writeUInt32BE(50, 24);
  header.writeUInt32LE(1000, 28);
  header.writeUInt32LE(1, 32);
  const dbfHeader = Buffer.alloc(65);
  dbfHeader.writeUInt8(3, 0);
  dbfHeader.writeUInt32LE(bytes, 4); // records
  dbfHeader.writeUInt16LE(65, 8); // header size: 32 + one field of 32 + terminator
  dbfHeader.writeUInt16LE(2, 10); // record size: deletion flag + one character
  dbfHeader.write('NAME', 32, 'latin1');
  dbfHeader.write('C', 43, 'latin1');
  dbfHeader.writeUInt8(1, 48);
  dbfHeader.writeUInt8(0x0d, 64);
  return zip([
    { name: 'bomb.shp', data: header },
    { name: 'bomb.shx', data: header },
    { name: 'bomb.dbf', data: Buffer.concat([dbfHeader, Buffer.alloc(bytes, 0x20)]), deflate: true },
  ]);
}

/** Sends without end, as fast as the client reads; no Content-Length. */
const firehose: Route = (response: ServerResponse) => {
  response.writeHead(200, { 'content-type': 'application/geo+json' });
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const pump = () => {
    while (!response.destroyed && response.write(chunk));
    if (!response.destroyed) response.once('drain', pump);
  };
  response.write('{"type":"FeatureCollection","features":[');
  pump();
};

/** Sends a byte every 100 ms, forever: never silent long enough for a read timeout, never done. */
const trickle: Route = (response: ServerResponse) => {
  response.writeHead(200, { 'content-type': 'application/geo+json' });
  response.write('{"type":"FeatureCollection","features":[');
  const timer = setInterval(() => (response.destroyed ? clearInterval(timer) : response.write(' ')), 100);
  response.on('close', () => clearInterval(timer));
};

/** Sends its headers and the first bytes, then nothing, keeping the connection open. */
const stall: Route = (response: ServerResponse) => {
  response.writeHead(200, { 'content-type': 'application/geo+json' });
  response.write('{"type":');
};

/**
 * The corpus: what each item is, where it is served, and how its body is made (addresses that must never be reached
 * point at the sentinel).
 */
export const HOSTILE_CORPUS: (HostileItem & { body: (sentinel: Sentinel) => Route })[] = [
  {
    what: 'a zip entry escaping the folder (../)',
    path: '/slip.zip',
    label: 'SHP',
    body: () =>
      zip([
        { name: 'ok.shp', data: Buffer.alloc(100) },
        { name: '../../evil.shp', data: 'pwned' },
      ]),
  },
  { what: 'a zip entry with an absolute path', path: '/absolute.zip', label: 'SHP', body: () => zip([{ name: '/tmp/geojobs-evil.shp', data: 'pwned' }]) },
  {
    what: 'a symbolic link inside a zip',
    path: '/symlink.zip',
    label: 'SHP',
    body: () =>
      zip([
        { name: 'passwd.shp', data: '/etc/passwd', mode: 0o120777 },
        { name: 'passwd.dbf', data: '/etc/passwd', mode: 0o120777 },
      ]),
  },
  {
    what: 'a zip bomb (a thousand times its size)',
    path: '/bomb.zip',
    label: 'SHP',
    body: () => zip([{ name: 'a.geojson', data: Buffer.alloc(40 * 1024 * 1024, 0x20), deflate: true }]),
  },
  {
    what: 'a zip bomb by ratio alone (8 MiB from some KB)',
    path: '/ratio.zip',
    label: 'SHP',
    body: () => zip([{ name: 'a.geojson', data: Buffer.alloc(8 * 1024 * 1024, 0x20), deflate: true }]),
  },
  { what: 'a zipped shapefile bomb', path: '/bomb.shp.zip', label: 'SHP', body: () => shapefileBomb(40 * 1024 * 1024) },
  { what: 'a zip of 20,001 entries', path: '/entries.zip', label: 'SHP', body: () => manyEntries(20_001) },
  {
    what: 'a KMZ bomb',
    path: '/bomb.kmz',
    label: 'KMZ',
    body: () => zip([{ name: 'doc.kml', data: Buffer.concat([Buffer.from(kml().slice(0, 100)), Buffer.alloc(40 * 1024 * 1024, 0x20)]), deflate: true }]),
  },
  { what: 'billion-laughs KML', path: '/laughs.kml', label: 'KML', body: () => billionLaughs() },
  {
    what: 'KML with an external entity reading /etc/passwd',
    path: '/xxe-file.kml',
    label: 'KML',
    body: () => kml(undefined, '<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>').replace('<name>cities', '<name>&xxe;'),
  },
  {
    what: 'KML with an external entity fetching from loopback',
    path: '/xxe-http.kml',
    label: 'KML',
    body: (sentinel) => kml(undefined, `<!DOCTYPE kml [<!ENTITY xxe SYSTEM "${sentinel.url('/xxe')}">]>`).replace('<name>cities', '<name>&xxe;'),
  },
  {
    what: 'KMZ whose KML has an external entity',
    path: '/xxe.kmz',
    label: 'KMZ',
    body: () =>
      zip([{ name: 'doc.kml', data: kml(undefined, '<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>').replace('<name>cities', '<name>&xxe;') }]),
  },
  { what: 'KML declaring an external entity past its first 64 KB', path: '/xxe-padded.kml', label: 'KML', body: () => paddedXxe('file:///etc/passwd') },
  { what: 'a 0-byte GeoJSON', path: '/empty.geojson', label: 'GeoJSON', body: () => Buffer.alloc(0) },
  { what: 'a truncated GeoJSON', path: '/truncated.geojson', label: 'GeoJSON', body: () => geojson().slice(0, 60) },
  { what: 'a truncated GeoPackage', path: '/truncated.gpkg', label: 'GPKG', body: () => truncatedGeoPackage() },
  { what: 'a truncated zipped shapefile', path: '/truncated.shp.zip', label: 'SHP', body: () => truncatedZip() },
  { what: 'a PNG named .geojson', path: '/image.geojson', label: 'GeoJSON', body: () => PNG },
  { what: 'a zip named .kml', path: '/archive.kml', label: 'KML', body: () => zip([{ name: 'doc.kml', data: kml() }]) },
  { what: 'GeoJSON nested 100,000 arrays deep', path: '/nested.geojson', label: 'GeoJSON', body: () => deeplyNested(100_000) },
  { what: 'absurd coordinates (1e308, "NaN", latitude 10,000)', path: '/absurd.geojson', label: 'GeoJSON', body: () => absurdCoordinates() },
  { what: 'a CSV of 10,000 columns', path: '/wide.csv', label: 'CSV', body: () => wideCsv(10_000) },
  { what: 'a server that never stops sending', path: '/firehose.geojson', label: 'GeoJSON', body: () => firehose },
  { what: 'a server that sends a byte at a time, forever', path: '/trickle.geojson', label: 'GeoJSON', body: () => trickle },
  { what: 'a server that sends its headers, then nothing', path: '/stall.geojson', label: 'GeoJSON', body: () => stall },
  {
    what: 'a redirect to loopback',
    path: '/to-loopback.geojson',
    label: 'GeoJSON',
    body: (sentinel) => (response) => response.writeHead(302, { location: sentinel.url('/secret.geojson') }).end(),
  },
  {
    what: 'a redirect to the cloud metadata service',
    path: '/to-metadata.geojson',
    label: 'GeoJSON',
    body: () => (response) => response.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' }).end(),
  },
];

/** Serves every item of the corpus from `files`. */
export function serveCorpus(files: FileServer, sentinel: Sentinel): void {
  for (const item of HOSTILE_CORPUS) files.routes.set(item.path, item.body(sentinel));
}
