/**
 * The Redis client BullMQ runs on. BullMQ 6 takes ioredis as an optional peer dependency (a devDependency here) and
 * builds no client of its own unless it can `require` one, so the bench builds the ioredis instances itself and hands
 * them over (BullMQ's way for a client it does not load).
 */
import type { ConnectionOptions } from 'bullmq';
import { Redis } from 'ioredis';

/**
 * A new ioredis connection to the private Redis, as BullMQ's connection option, and how to close it (BullMQ leaves a
 * connection it was given open when its queue or worker closes).
 */
export function redisConnection(port: number, db = 0): { connection: ConnectionOptions; disconnect: () => void } {
  // null: BullMQ's workers block on Redis and need their commands never given up
  const client = new Redis({ host: '127.0.0.1', port, db, maxRetriesPerRequest: null });
  return { connection: client, disconnect: () => client.disconnect() };
}
