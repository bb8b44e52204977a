import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { NotFoundException } from '@nestjs/common';
import type { GatewayConfig } from '../config/gateway.config.js';
import { TilesRoute } from './tiles.route.js';
import type { Tile, TilesService } from './tiles.service.js';

const LAYER = 'pre_r1';
const config = (publicTiles?: 'true' | 'false') => ({ GEOJOBS_PUBLIC_TILES: publicTiles, GEOJOBS_TILE_MAX_AGE_SECONDS: 300 }) as GatewayConfig;

/** TilesService with one layer, whose tiles are their own address; `fail` makes it throw instead. */
const tiles = (fail?: Error) =>
  ({
    etag: async (layerId: string, z: number, x: number, y: number) => `"${layerId}.${z}.${x}.${y}"`,
    tile: async (layerId: string, z: number, x: number, y: number, column?: string): Promise<Tile> => {
      if (fail) throw fail;
      if (layerId !== LAYER || (column !== undefined && column !== 'wkb_geometry')) throw new NotFoundException();
      return { body: Buffer.from(`${z}/${x}/${y}`), etag: `"${layerId}.${z}.${x}.${y}"` };
    },
  }) as unknown as TilesService;

const request = (url: string, method = 'GET', headers: Record<string, string> = {}) => ({ url, method, headers }) as unknown as IncomingMessage;

/** Runs `handle` and says whether it answered (status, headers, body) or handed the request on. */
async function handle(route: TilesRoute, url: string, headers: Record<string, string> = {}) {
  return new Promise<{ handedOn: true } | { status: number; headers: OutgoingHttpHeaders; body?: Buffer }>((resolve) => {
    let status = 0;
    let written: OutgoingHttpHeaders = {};
    const response = {
      once: () => response,
      writeHead(code: number, values: OutgoingHttpHeaders) {
        status = code;
        written = values;
        return response;
      },
      end: (body?: Buffer) => resolve({ status, headers: written, body }),
    };
    route.handle(request(url, 'GET', headers), response as unknown as ServerResponse, () => resolve({ handedOn: true }));
  });
}

describe('TilesRoute', () => {
  const route = new TilesRoute(tiles(), config());

  it('claims GETs of the plain spellings of both tile paths, while tiles are public', () => {
    for (const url of [
      `/layers/${LAYER}/tiles/0/0/0.mvt`,
      `/layers/${LAYER}/tiles/14/8190/5447.mvt`,
      `/gis/services/postgis/${LAYER}/wkb_geometry/vector-tiles/3/1/2.pbf`,
    ]) {
      expect(route.claims(request(url))).toBe(true);
    }
    expect(new TilesRoute(tiles(), config('true')).claims(request(`/layers/${LAYER}/tiles/0/0/0.mvt`))).toBe(true);
  });

  it('leaves to Express every other method and spelling, and every tile that needs a credential', () => {
    const plain = `/layers/${LAYER}/tiles/0/0/0.mvt`;
    for (const method of ['HEAD', 'POST', 'OPTIONS', 'DELETE']) expect(route.claims(request(plain, method))).toBe(false);
    for (const url of [
      `${plain}?key=abc`,
      `${plain}/`,
      `/LAYERS/${LAYER}/tiles/0/0/0.mvt`,
      `/layers/${LAYER}/tiles/0/0/0.pbf`,
      `/layers/pre%5Fr1/tiles/0/0/0.mvt`,
      `/layers/${LAYER}/tiles/0/0/123456789.mvt`,
      `/layers/${LAYER}/tiles/-1/0/0.mvt`,
      `//layers/${LAYER}/tiles/0/0/0.mvt`,
      `/gis/services/postgis/${LAYER}/wkb_geometry/vector-tiles/0/0/0.mvt`,
      `/layers/${LAYER}`,
    ]) {
      expect(route.claims(request(url))).toBe(false);
    }
    expect(new TilesRoute(tiles(), config('false')).claims(request(plain))).toBe(false);
  });

  it('answers a tile with its ETag and the fixed headers, and 304 when If-None-Match holds the ETag', async () => {
    const answer = await handle(route, `/layers/${LAYER}/tiles/5/10/12.mvt`);
    expect(answer).toEqual({
      status: 200,
      headers: {
        'cache-control': 'public, max-age=300',
        'access-control-allow-origin': '*',
        'access-control-expose-headers': 'ETag',
        vary: 'Accept-Encoding',
        etag: `"${LAYER}.5.10.12"`,
        'content-type': 'application/vnd.mapbox-vector-tile',
        'content-length': 7,
      },
      body: Buffer.from('5/10/12'),
    });
    expect(await handle(route, `/gis/services/postgis/${LAYER}/wkb_geometry/vector-tiles/5/10/12.pbf`)).toEqual(answer);
    const notModified = await handle(route, `/layers/${LAYER}/tiles/5/10/12.mvt`, { 'if-none-match': `W/"other", "${LAYER}.5.10.12"` });
    expect(notModified).toMatchObject({ status: 304, headers: { etag: `"${LAYER}.5.10.12"` }, body: undefined });
  });

  it('hands on, having written nothing, what it does not answer with a tile: a bad address, an unknown layer or column, a failure', async () => {
    for (const url of [
      `/layers/${LAYER}/tiles/3/8/0.mvt`,
      `/layers/${LAYER}/tiles/25/0/0.mvt`,
      `/layers/pre_other/tiles/0/0/0.mvt`,
      `/gis/services/postgis/${LAYER}/the_geom/vector-tiles/0/0/0.pbf`,
    ]) {
      expect(await handle(route, url)).toEqual({ handedOn: true });
    }
    expect(await handle(new TilesRoute(tiles(new Error('connection terminated')), config()), `/layers/${LAYER}/tiles/0/0/0.mvt`)).toEqual({ handedOn: true });
  });

  it('gives the controller the failure of a request it handed on, without cutting the tile again', async () => {
    const failure = new Error('canceling statement due to statement timeout');
    const service = tiles(failure);
    let cuts = 0;
    const failing = new TilesRoute(
      {
        etag: (...args: Parameters<TilesService['etag']>) => service.etag(...args),
        tile: (...args: Parameters<TilesService['tile']>) => (cuts++, service.tile(...args)),
      } as TilesService,
      config(),
    );
    const handedOn = request(`/layers/${LAYER}/tiles/0/0/0.mvt`);
    await new Promise<void>((resolve) => failing.handle(handedOn, {} as ServerResponse, resolve));
    await expect(failing.answer(handedOn, LAYER, undefined, { z: 0, x: 0, y: 0 })).rejects.toBe(failure);
    expect(cuts).toBe(1);
    // another request is answered afresh
    await expect(failing.answer(request(`/layers/${LAYER}/tiles/0/0/0.mvt`), LAYER, undefined, { z: 0, x: 0, y: 0 })).rejects.toBe(failure);
    expect(cuts).toBe(2);
  });
});
