/**
 * The Redis client BullMQ runs on. BullMQ 6 takes ioredis as an optional peer dependency and builds no client of its own
 * unless it can `require` one, so the bench builds the ioredis instances itself and hands them over (BullMQ's way for a
 * client it does not load): from node_modules, or else from BENCH_IOREDIS_DIR (a folder holding node_modules/ioredis),
 * for a checkout whose package.json does not list ioredis yet.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ConnectionOptions } from 'bullmq';

type IORedis = new (options: { host: string; port: number; db?: number; maxRetriesPerRequest: number | null }) => { disconnect(): void };

/** Where ioredis was found (for the versions), or null when it is nowhere: the BullMQ side cannot run then. */
export function findIORedis(): { path: string; version: string; from: string } | null {
  const places = [
    { from: 'node_modules', place: join(process.cwd(), 'node_modules', 'bullmq', 'package.json') },
    ...(process.env.BENCH_IOREDIS_DIR ? [{ from: 'BENCH_IOREDIS_DIR', place: join(process.env.BENCH_IOREDIS_DIR, 'index.js') }] : []),
  ];
  for (const { from, place } of places) {
    try {
      const require = createRequire(place);
      const path = require.resolve('ioredis');
      return { path, from, version: (require('ioredis/package.json') as { version: string }).version };
    } catch {
      // not there: the next place
    }
  }
  return null;
}

/**
 * A new ioredis connection to the private Redis, as BullMQ's connection option, and how to close it (BullMQ leaves a
 * connection it was given open when its queue or worker closes).
 */
export function redisConnection(port: number, db = 0): { connection: ConnectionOptions; disconnect: () => void } {
  const found = findIORedis();
  if (!found) throw new Error('no ioredis: BullMQ cannot run');
  const module = createRequire(found.path)(found.path) as IORedis | { default: IORedis };
  const Redis = 'default' in module ? module.default : module;
  // null: BullMQ's workers block on Redis and need their commands never given up
  const client = new Redis({ host: '127.0.0.1', port, db, maxRetriesPerRequest: null });
  return { connection: client, disconnect: () => client.disconnect() };
}
