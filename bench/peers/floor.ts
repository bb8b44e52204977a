/**
 * What geojobs' durability alone costs on this machine, beside the throughput rows: the same RabbitMQ carrying persistent
 * messages with publisher confirms through a quorum queue, consumed and acked, and the same PostgreSQL committing
 * single-row inserts from 50 clients — with no gateway, service, HTTP or validation around them. A geojobs job needs 2–3
 * such messages (command, final event, and `job.started` for one that runs longer than a moment) and one committed insert
 * plus its updates, so these rates bound what any geojobs build can do here.
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import pg from 'pg';
import { eventEnvelope } from '#shared';
import { benchEnv, withDatabase, withVhost } from '../support/bench-env.js';

/** As geojobs' publishers (GEOJOBS_MAX_UNCONFIRMED's default). */
const IN_FLIGHT = 2_000;
/** As the bench's geo-service (GEOJOBS_PREFETCH=500). */
const PREFETCH = 500;
/** A lifecycle event's size: an envelope of ids and timestamps around a small payload. */
const BODY = Buffer.from(
  JSON.stringify(
    eventEnvelope(
      'job.succeeded',
      { jobId: randomUUID(), result: { sleptMs: 0 }, startedAt: new Date().toISOString() },
      { correlationId: randomUUID(), causationId: randomUUID() },
    ),
  ),
);

/** `messages` persistent messages published with confirms to a quorum queue and consumed, each acked: ms from the first publish to the last ack. */
export async function rabbitmqAlone(messages: number): Promise<number> {
  return withVhost('geojobs_bench_floor', async (url) => {
    const publishing = await amqp.connect(url);
    const consuming = await amqp.connect(url);
    try {
      const publisher = await publishing.createConfirmChannel();
      const consumer = await consuming.createChannel();
      const queue = 'floor_q';
      await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await consumer.prefetch(PREFETCH);
      let acked = 0;
      let allAcked!: () => void;
      const done = new Promise<void>((resolve) => (allAcked = resolve));
      await consumer.consume(queue, (message) => {
        if (!message) return;
        consumer.ack(message);
        if (++acked === messages) allAcked();
      });
      const publish = () =>
        new Promise<void>((resolve, reject) =>
          publisher.publish('', queue, BODY, { persistent: true, contentType: 'application/json' }, (error: unknown) =>
            error ? reject(error instanceof Error ? error : new Error('the broker refused a message')) : resolve(),
          ),
        );
      const start = performance.now();
      let sent = 0;
      const lane = async () => {
        while (sent < messages) {
          sent++;
          await publish();
        }
      };
      await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, messages) }, lane));
      await done;
      return performance.now() - start;
    } finally {
      await publishing.close();
      await consuming.close();
    }
  });
}

/** `rows` single-row inserts, each committed on its own, from `clients` connections: ms for all of them. */
export async function postgresAlone(rows: number, clients = 50): Promise<number> {
  const name = `geojobs_bench_floor_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: benchEnv('GEOJOBS_ADMIN_DATABASE_URL') });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const connections = Array.from({ length: clients }, () => new pg.Client({ connectionString: withDatabase(benchEnv('GEOJOBS_ADMIN_DATABASE_URL'), name) }));
  try {
    await Promise.all(connections.map((client) => client.connect()));
    // a job row's primary key and input, not its other indexes: what any durable queue in PostgreSQL writes
    await connections[0].query('CREATE TABLE floor (id uuid PRIMARY KEY, input jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())');
    const input = JSON.stringify({ service: 'geo' });
    const start = performance.now();
    let inserted = 0;
    await Promise.all(
      connections.map(async (client) => {
        while (inserted < rows) {
          inserted++;
          await client.query({ name: 'floor-insert', text: 'INSERT INTO floor (id, input) VALUES ($1, $2)', values: [randomUUID(), input] });
        }
      }),
    );
    return performance.now() - start;
  } finally {
    await Promise.all(connections.map((client) => client.end()));
    await admin.query(`DROP DATABASE IF EXISTS "${name}"`);
    await admin.end();
  }
}
