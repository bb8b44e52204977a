import type { Options } from 'amqplib';
import { backoffDelay, type BackoffPolicy } from '../backoff/backoff.js';

/** Reconnect delays: per round over every node, so a node that just died is left for the next one at once. */
const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 5_000 };

/**
 * The nodes of a RabbitMQ cluster, taken in turn: amqplib's recovery reconnects to the one address it was given, and
 * reads that address again on every attempt, so the connection is given `endpoint` and each reconnect attempt points
 * it at the next node first (`nextDelay`). A whole round of nodes is tried before the delay grows.
 */
export class BrokerNodes {
  /** What amqplib connects to: the current node's settings, rewritten in place by `nextDelay`. */
  readonly endpoint: Options.Connect;
  private readonly nodes: Options.Connect[];
  private index = 0;

  constructor(urls: readonly string[], heartbeatSeconds: number) {
    if (urls.length === 0) throw new Error('no RabbitMQ node URL');
    this.nodes = urls.map((url) => connectOptionsOf(url, heartbeatSeconds));
    this.endpoint = { ...this.nodes[0] };
  }

  /** host:port of the node the connection uses, or tries next: for the logs. */
  get current(): string {
    return `${this.endpoint.hostname ?? ''}:${this.endpoint.port ?? ''}`;
  }

  /** amqplib's `calculateDelay`: moves to the next node, and waits longer each time every node has been tried. */
  nextDelay(attempt: number, random: () => number = Math.random): number {
    this.index = (this.index + 1) % this.nodes.length;
    Object.assign(this.endpoint, this.nodes[this.index]);
    return backoffDelay(Math.ceil(attempt / this.nodes.length), RECONNECT_BACKOFF, 0, random);
  }
}

/**
 * An amqp(s):// URL as amqplib's connection object. amqplib unescapes the vhost itself; user and password are used
 * as given, so they are decoded here. A `heartbeat` in the URL's query wins over the default.
 */
export function connectOptionsOf(url: string, heartbeatSeconds: number): Options.Connect {
  const parsed = new URL(url);
  const protocol = parsed.protocol.replace(/:$/, '');
  const heartbeat = parsed.searchParams.get('heartbeat');
  const frameMax = parsed.searchParams.get('frameMax');
  return {
    protocol,
    hostname: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: Number(parsed.port) || (protocol === 'amqps' ? 5671 : 5672),
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    vhost: parsed.pathname.length > 1 ? parsed.pathname.slice(1) : undefined,
    heartbeat: heartbeat === null ? heartbeatSeconds : Number(heartbeat),
    ...(frameMax === null ? {} : { frameMax: Number(frameMax) }),
  };
}
