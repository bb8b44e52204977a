/**
 * The import comparison of bench:peers: one 500,000-point GeoJSON served over local HTTP (with Range support, which
 * GDAL's /vsicurl/ reads by), into PostGIS three ways, round by round in a rotating order:
 *   geojobs   the whole geopreview job on a spawned geo-service (bench:import's own function: download, import with
 *             COPY, clean, both indexes, describe, swap), publish → job.succeeded;
 *   ogr2ogr   `ogr2ogr -f PostgreSQL PG:… /vsicurl/<url>` (COPY, its own GiST index), then the Web Mercator index
 *             the tiles need, the same statement and memory as geo-service's (the least a tile-serving import does);
 *   INSERT    the same with `--config PG_USE_COPY NO` (one INSERT per feature: how the portal's previous system ran it),
 *             then the same index.
 * All three as the geo role, into the layers schema of one fresh database.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { webMercatorPredicate, libpqConnectionString } from '#shared';
import { pointsFile } from '../../libs/testing/src/index.js';
import { throughGeoService } from '../import.bench.js';
import { benchEnv, freshDatabase, freshVhost, withDatabase } from '../support/bench-env.js';

/** Serves one file as a file host does: whole with GET, or a byte range (206), HEAD with its length. */
async function serveWithRanges(path: string, bytes: number): Promise<{ url: string; close: () => void }> {
  const server = createServer((request, response) => {
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    const headers = { 'content-type': 'application/geo+json', 'accept-ranges': 'bytes' };
    if (!range) {
      response.writeHead(200, { ...headers, 'content-length': bytes });
      if (request.method === 'HEAD') response.end();
      else createReadStream(path).pipe(response);
      return;
    }
    const start = Number(range[1]);
    const end = Math.min(range[2] ? Number(range[2]) : bytes - 1, bytes - 1);
    if (start >= bytes) {
      response.writeHead(416, { 'content-range': `bytes */${bytes}` }).end();
      return;
    }
    response.writeHead(206, { ...headers, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${bytes}` });
    if (request.method === 'HEAD') response.end();
    else createReadStream(path, { start, end }).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/points.geojson`, close: () => server.close() };
}

export interface ImportRound {
  geojobs: number;
  ogr2ogr: number;
  insert: number;
  /** geojobs' steps in its last round. */
  steps: string;
  rssMb: number;
}

/** ogr2ogr from the URL (/vsicurl/), then the Web Mercator index; milliseconds of both. */
async function ogr2ogrAndIndex(url: string, geoUrl: string, table: string, copy: boolean): Promise<number> {
  const start = performance.now();
  await promisify(execFile)(
    'ogr2ogr',
    [
      ...(copy ? [] : ['--config', 'PG_USE_COPY', 'NO']),
      '-f',
      'PostgreSQL',
      `PG:${libpqConnectionString(geoUrl)}`,
      `/vsicurl/${url}`,
      '-nln',
      table,
      '-lco',
      'SCHEMA=layers',
    ],
    { maxBuffer: 1 << 24 },
  );
  const client = new pg.Client({ connectionString: geoUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL maintenance_work_mem = '256MB'`);
    await client.query(`CREATE INDEX ON layers."${table}" USING gist (ST_Transform(wkb_geometry, 3857)) WHERE ${webMercatorPredicate('wkb_geometry')}`);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
  return performance.now() - start;
}

export async function compareImport(features: number, rounds: number): Promise<{ rounds: ImportRound[]; bytes: number }> {
  const data = join(benchEnv('GEOJOBS_DATA_DIR'), 'import');
  const { path, bytes } = await pointsFile(data, features);
  const server = await serveWithRanges(path, bytes);
  const small = await pointsFile(data, 20_000);
  const warmUp = await serveWithRanges(small.path, small.bytes);
  const database = await freshDatabase('geojobs_bench_peers_import');
  const geoUrl = withDatabase(benchEnv('GEOJOBS_GEO_DATABASE_URL'), database.name);
  const vhost = await freshVhost('geojobs_bench_peers_import');
  const results: ImportRound[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const result: Partial<ImportRound> = {};
      const sides: (() => Promise<void>)[] = [
        async () => {
          const run = await throughGeoService(server.url, warmUp.url, vhost.url, geoUrl);
          if (run.features !== features) throw new Error(`geojobs imported ${run.features} features, expected ${features}`);
          Object.assign(result, { geojobs: run.ms, steps: run.steps, rssMb: run.rssMb });
        },
        async () => void (result.ogr2ogr = await ogr2ogrAndIndex(server.url, geoUrl, `ogr2ogr_${round}`, true)),
        async () => void (result.insert = await ogr2ogrAndIndex(server.url, geoUrl, `insert_${round}`, false)),
      ];
      // each side first in turn, so that none always runs in another's wake (WAL, checkpoints, caches)
      for (let turn = 0; turn < sides.length; turn++) await sides[(round + turn) % sides.length]();
      results.push(result as ImportRound);
      process.stdout.write(
        `  import round ${round + 1}: geojobs ${(result.geojobs! / 1000).toFixed(2)} s, ogr2ogr+index ${(result.ogr2ogr! / 1000).toFixed(2)} s, INSERT+index ${(result.insert! / 1000).toFixed(2)} s\n`,
      );
    }
  } finally {
    server.close();
    warmUp.close();
    await vhost.remove();
    await database.remove();
  }
  return { rounds: results, bytes };
}
