/** The generated point layer the import and tile benchmarks and the geo tests share, and a local server offering it. */
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** Point i: spread over the globe (within Web Mercator's latitudes). */
export const pointOf = (i: number): [number, number] => [((i * 7919) % 360_000) / 1000 - 180, ((i * 104_729) % 170_000) / 1000 - 85];

async function generate(path: string, features: number): Promise<void> {
  const out = createWriteStream(path);
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', () => resolve())));
  await write('{"type":"FeatureCollection","features":[\n');
  let buffer = '';
  for (let i = 0; i < features; i++) {
    const [lon, lat] = pointOf(i);
    buffer += `${i ? ',' : ''}{"type":"Feature","properties":{"id":${i},"name":"point ${i}","value":${(i % 1000) / 10},"category":"c${i % 17}","active":${i % 2 === 0}},"geometry":{"type":"Point","coordinates":[${lon},${lat}]}}\n`;
    if (buffer.length > 1 << 20) {
      await write(buffer);
      buffer = '';
    }
  }
  await write(`${buffer}]}\n`);
  await new Promise<void>((resolve) => out.end(resolve));
}

/** A GeoJSON of `features` points with 5 attributes of 4 types, generated once into `folder`. */
export async function pointsFile(folder: string, features: number): Promise<{ path: string; bytes: number }> {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `points-${features}.geojson`);
  if (!existsSync(path)) {
    process.stdout.write(`generating ${path} …\n`);
    await generate(path, features);
  }
  return { path, bytes: statSync(path).size };
}

/** Serves one file over local HTTP, as a portal's file host would. */
export async function serveFile(path: string, bytes: number): Promise<{ url: string; close: () => void }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-length': bytes, 'content-type': 'application/geo+json' });
    createReadStream(path).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/points.geojson`, close: () => server.close() };
}
