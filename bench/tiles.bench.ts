/**
 * `npm run bench:tiles`: a generated 500,000-point layer (5 attributes) imported through the gateway
 * (`POST /geopreview` → geo-service, which builds the Web Mercator GiST index), then 1,000 distinct tiles at zooms
 * 4–14 around its points requested one at a time from a spawned gateway (cold: each tile cut by PostGIS), beside the
 * same ST_AsMVT statement (the gateway's own, built by the same function, same role) run directly with pg, both as
 * the gateway runs it (prepared once per connection) and unprepared (parsed and planned for every tile), and beside
 * a bare `node:http` server (bench/support/bare-tile-server.ts, spawned as its own process like the gateway) that
 * runs the same prepared statement on one pg connection and writes the bytes: the least any HTTP server adds here.
 * Then the same 1,000 tiles again from the gateway (its in-process LRU). Each client holds one connection (pg, HTTP
 * keep-alive through node:http), and the four are interleaved tile by tile in turn, so that none always goes first.
 * Untimed passes first warm PostgreSQL's buffers, prepare the statements and warm the clients' and both servers'
 * code (the servers' with other tiles than the sample's). Prints p50/p99 of each.
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { LayersRepository, tileStatement, tileValues } from '../apps/gateway/src/layers/layers.repository.js';
import { freePort, pointOf, pointsFile, serveFile } from '../libs/testing/src/index.js';
import {
  benchEnv,
  benchNodeArgs,
  freshDatabase,
  freshVhost,
  isMain,
  startBenchGateway,
  startBenchService,
  stopProcess,
  withDatabase,
  type BenchService,
} from './support/bench-env.js';
import { percentile } from './support/stats.js';
import { quoteIdent } from '#shared';

const FEATURES = Number(process.env.BENCH_FEATURES ?? 500_000);
const TILES = Number(process.env.BENCH_TILES ?? 1_000);
const MAX_FEATURES = 20_000; // the gateway's GEOJOBS_TILE_MAX_FEATURES default, below zoom 12
const env = process.env;
if (
  !env.GEOJOBS_AMQP_URL ||
  !env.GEOJOBS_RABBITMQ_MGMT_URL ||
  !env.GEOJOBS_ADMIN_DATABASE_URL ||
  !env.GEOJOBS_GEO_DATABASE_URL ||
  !env.GEOJOBS_GATEWAY_DATABASE_URL
) {
  throw new Error('run through npm run bench:tiles (needs the infra variables)');
}
const DATA = join(env.GEOJOBS_DATA_DIR ?? join(process.cwd(), '.data', 'bench'), 'tiles');

interface Tile {
  z: number;
  x: number;
  y: number;
}

/** The tile (x, y) holding a longitude/latitude at a zoom. */
const tileOf = (lon: number, lat: number, z: number) => {
  const n = 2 ** z;
  const rad = (lat * Math.PI) / 180;
  return { z, x: Math.floor(((lon + 180) / 360) * n), y: Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n) };
};

/** `count` distinct tiles at zooms `from`–`to`, each around one of the layer's points (a deterministic sample). */
function sampleTiles(count: number, from: number, to: number): Tile[] {
  let seed = 42;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const tiles = new Map<string, Tile>();
  while (tiles.size < count) {
    const [lon, lat] = pointOf(Math.floor(random() * FEATURES));
    const tile = tileOf(lon, lat, from + Math.floor(random() * (to - from + 1)));
    tiles.set(`${tile.z}/${tile.x}/${tile.y}`, tile);
  }
  return [...tiles.values()];
}

/** bench/support/bare-tile-server.ts as a process of its own, serving the layer's tiles; resolves once it listens. */
async function startBareTileServer(databaseUrl: string, layerId: string): Promise<BenchService> {
  const port = await freePort();
  const child = spawn(process.execPath, [...benchNodeArgs(), 'dist/bench/support/bare-tile-server.js'], {
    env: { PATH: process.env.PATH, BARE_DATABASE_URL: databaseUrl, BARE_LAYER_ID: layerId, BARE_MAX_FEATURES: String(MAX_FEATURES), BARE_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // its own `listening` line, whatever else BENCH_NODE_ARGS makes node print (--trace-gc…), which passes through
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the bare tile server exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => (line === 'listening' ? resolve() : console.log(line)));
  });
  return { url: `http://127.0.0.1:${port}`, process: child, stop: () => stopProcess(child) };
}

const timed = async (fn: () => Promise<unknown>) => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};

/** Milliseconds per tile of each way (in the sample's order), and the import's time. */
export interface TilesResult {
  cold: number[];
  cached: number[];
  bare: number[];
  prepared: number[];
  unprepared: number[];
  importMs: number;
}

/** The whole bench: imports the layer, measures the tiles each way, prints and returns the times. */
export async function runTiles(): Promise<TilesResult> {
  const { path: file, bytes } = await pointsFile(DATA, FEATURES);
  const server = await serveFile(file, bytes);
  const fileUrl = server.url;
  const database = await freshDatabase('geojobs_bench_tiles');
  const vhost = await freshVhost('geojobs_bench_tiles');
  const gatewayUrl = withDatabase(benchEnv('GEOJOBS_GATEWAY_DATABASE_URL'), database.name);

  const services: BenchService[] = [];
  try {
    const geo = await startBenchService('geo-service', 'GEOJOBS_GEO_PORT', {
      GEOJOBS_AMQP_URL: vhost.url,
      GEOJOBS_GEO_DATABASE_URL: withDatabase(benchEnv('GEOJOBS_GEO_DATABASE_URL'), database.name),
      GEOJOBS_ALLOWED_HOSTS: '127.0.0.1',
    });
    services.push(geo);
    const gateway = await startBenchGateway(vhost.url, database.name);
    services.push(gateway);

    const auth = { authorization: `Bearer ${gateway.token}`, 'content-type': 'application/json' };
    process.stdout.write(`importing ${FEATURES} points through POST /geopreview …\n`);
    const importStart = performance.now();
    const job = (await (
      await fetch(`${gateway.url}/geopreview`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ datasetId: 'bench', resourceId: 'bench-tiles', url: fileUrl }),
      })
    ).json()) as { id: string };
    let state: { state: string; result: { layerId: string } | null; error: unknown } = { state: 'queued', result: null, error: null };
    while (!['succeeded', 'failed', 'cancelled'].includes(state.state)) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      state = (await (await fetch(`${gateway.url}/jobs/${job.id}`, { headers: auth })).json()) as typeof state;
    }
    if (state.state !== 'succeeded') throw new Error(`the import failed: ${JSON.stringify(state.error)}`);
    const importMs = performance.now() - importStart;
    const layerId = state.result!.layerId;

    const bare = await startBareTileServer(gatewayUrl, layerId);
    services.push(bare);

    const tiles = sampleTiles(TILES, 4, 14);
    // one keep-alive connection to each server, as the direct client has one; node:http rather than fetch, whose own
    // per-request work (WHATWG streams and headers) would be counted against the server
    const client = (base: string) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const get = (path: string) =>
        new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
          request(`${base}${path}`, { agent }, (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
            response.on('error', reject);
          })
            .on('error', reject)
            .end();
        });
      return { get, close: () => agent.destroy() };
    };
    const http = { gateway: client(gateway.url), bare: client(bare.url) };
    // warm-up: the connections, the layer lookup, both servers' two tile statements (capped below zoom 12, full from
    // it on; zoom 3 is below the sample), and their code (compiled by V8 as it runs hot), as the direct client's code is
    // by its untimed pass: as many tiles at zooms 15–16, above the sample, so that none of the sample is in the gateway's LRU
    for (const { z, x, y } of [{ z: 3, x: 0, y: 0 }, ...sampleTiles(TILES, 15, 16)]) {
      for (const server of [http.gateway, http.bare]) await server.get(`/layers/${layerId}/tiles/${z}/${x}/${y}.mvt`);
    }

    // the gateway's statement, run directly by pg as the gateway's role; one untimed pass first, so that every measured
    // pass finds the layer's pages in PostgreSQL's buffers and the statements prepared, and they differ only by the way
    const direct = new pg.Client({ connectionString: gatewayUrl });
    await direct.connect();
    const repository = new LayersRepository({
      query: async (sql: string, params?: unknown[]) => (await direct.query(sql, params)).rows as unknown[],
    } as unknown as DataSource);
    const layer = (await repository.find(layerId))!;
    const statements = { capped: tileStatement(layer, MAX_FEATURES), full: tileStatement(layer, null) };
    const statementAt = (z: number) => (z < 12 ? statements.capped : statements.full);
    const prepared = ({ z, x, y }: Tile) => direct.query({ ...statementAt(z), values: tileValues(layer, z, x, y) });
    const unprepared = ({ z, x, y }: Tile) => direct.query(statementAt(z).text, tileValues(layer, z, x, y));
    for (const tile of tiles) await prepared(tile);

    // each tile through the gateway (not yet in its LRU), through the bare server and directly both ways, interleaved in turn
    const times = { cold: [] as number[], bare: [] as number[], prepared: [] as number[], unprepared: [] as number[] };
    let tileBytes = 0;
    let bareBytes = 0;
    let empty = 0;
    const ways: Record<keyof typeof times, (tile: Tile) => Promise<unknown>> = {
      cold: async ({ z, x, y }) => {
        const response = await http.gateway.get(`/layers/${layerId}/tiles/${z}/${x}/${y}.mvt`);
        if (response.status !== 200) throw new Error(`tile ${z}/${x}/${y}: ${response.status}`);
        tileBytes += response.body.length;
        if (response.body.length === 0) empty++;
      },
      bare: async ({ z, x, y }) => {
        const response = await http.bare.get(`/layers/${layerId}/tiles/${z}/${x}/${y}.mvt`);
        if (response.status !== 200) throw new Error(`bare tile ${z}/${x}/${y}: ${response.status}`);
        bareBytes += response.body.length;
      },
      prepared,
      unprepared,
    };
    const order = Object.keys(ways) as (keyof typeof times)[];
    for (const [index, tile] of tiles.entries()) {
      for (let turn = 0; turn < order.length; turn++) {
        const way = order[(index + turn) % order.length];
        times[way].push(await timed(() => ways[way](tile)));
      }
    }
    const cached: number[] = [];
    for (const { z, x, y } of tiles) cached.push(await timed(() => http.gateway.get(`/layers/${layerId}/tiles/${z}/${x}/${y}.mvt`)));
    http.gateway.close();
    http.bare.close();
    if (bareBytes !== tileBytes) throw new Error(`the bare server sent ${bareBytes} bytes of tiles, the gateway ${tileBytes}`);

    // the plan PostgreSQL now keeps for the prepared statement (generic once it has run a few times)
    const plan = (await direct.query(`EXPLAIN EXECUTE ${quoteIdent(statements.capped.name)}(10, 500, 400, '${layerId}')`)).rows
      .map((row: Record<string, unknown>) => String(Object.values(row)[0]).trim())
      .join(' / ');
    await direct.end();

    const ms = (value: number) => `${value.toFixed(2).padStart(7)} ms`;
    console.log(
      `tiles benchmark: ${FEATURES} points (5 attributes) imported in ${(importMs / 1000).toFixed(1)} s; ${tiles.length} distinct tiles at zooms 4–14, one request at a time`,
    );
    console.log(
      `  (${empty} empty, ${(tileBytes / tiles.length / 1024).toFixed(1)} KiB per tile on average; features per tile capped at ${MAX_FEATURES} below zoom 12)`,
    );
    const line = (label: string, values: number[]) =>
      console.log(`  ${label.padEnd(58)} p50 ${ms(percentile(values, 50))}   p99 ${ms(percentile(values, 99))}`);
    line('gateway GET /layers/:id/tiles/z/x/y.mvt, cold', times.cold);
    line('same statement run directly with pg, prepared (as the gateway)', times.prepared);
    line('same statement run directly with pg, unprepared', times.unprepared);
    line('bare node:http + pg server, same prepared statement', times.bare);
    line('gateway, the same tiles again (in-process LRU)', cached);
    const ratio = (of: number[], to: number[]) => (percentile(of, 50) / percentile(to, 50)).toFixed(2);
    console.log(
      `  gateway cold p50 / direct p50: ${ratio(times.cold, times.prepared)}× prepared, ${ratio(times.cold, times.unprepared)}× unprepared (target 1.2×)`,
    );
    console.log(
      `  bare server p50 / direct p50: ${ratio(times.bare, times.prepared)}× prepared (the least HTTP adds here); gateway cold p50 / bare server p50: ${ratio(times.cold, times.bare)}×`,
    );
    console.log(`  plan of the prepared tile statement: ${plan}`);
    return { ...times, cached, importMs };
  } finally {
    for (const service of services) await service.stop();
    server.close();
    await vhost.remove();
    await database.remove();
  }
}

if (isMain(import.meta.url)) await runTiles();
