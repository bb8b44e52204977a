/**
 * The least an HTTP server can add to a tile: `node:http` and one pg connection, nothing else. Answers
 * `GET /layers/<id>/tiles/<z>/<x>/<y>.mvt` by running the gateway's own tile statement (built by the same function,
 * prepared on first use, capped below zoom 12 as the gateway's) and writing its bytes; no routing, validation,
 * logging, metrics, auth, ETag or cache. bench:tiles runs it as a process of its own, as it runs the gateway.
 *
 * Environment: BARE_DATABASE_URL (the gateway's role), BARE_LAYER_ID, BARE_MAX_FEATURES, BARE_PORT. Prints
 * `listening` once it answers.
 */
import { createServer } from 'node:http';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { LayersRepository, tileStatement, tileValues } from '../../apps/gateway/src/layers/layers.repository.js';

const { BARE_DATABASE_URL, BARE_LAYER_ID, BARE_MAX_FEATURES, BARE_PORT } = process.env;
if (!BARE_DATABASE_URL || !BARE_LAYER_ID || !BARE_MAX_FEATURES || !BARE_PORT)
  throw new Error('BARE_DATABASE_URL, BARE_LAYER_ID, BARE_MAX_FEATURES and BARE_PORT are needed');

const client = new pg.Client({ connectionString: BARE_DATABASE_URL });
await client.connect();
const repository = new LayersRepository({
  query: async (sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as unknown[],
} as unknown as DataSource);
const layer = await repository.find(BARE_LAYER_ID);
if (!layer) throw new Error(`no layer ${BARE_LAYER_ID}`);
const capped = tileStatement(layer, Number(BARE_MAX_FEATURES));
const full = tileStatement(layer, null);

const server = createServer((request, response) => {
  // /layers/<id>/tiles/<z>/<x>/<y>.mvt, trusted: the bench sends only these
  const [, , , , z, x, y] = request.url!.slice(0, -4).split('/').map(Number);
  client.query<{ mvt: Buffer | null }>({ ...(z < 12 ? capped : full), values: tileValues(layer, z, x, y) }).then(
    (result) => {
      const body = result.rows[0]?.mvt ?? Buffer.alloc(0);
      response.writeHead(200, { 'content-type': 'application/vnd.mapbox-vector-tile', 'content-length': body.length }).end(body);
    },
    (error: Error) => response.writeHead(500).end(error.message),
  );
});
server.listen(Number(BARE_PORT), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => {
  server.close(() => void client.end());
  server.closeAllConnections();
});
