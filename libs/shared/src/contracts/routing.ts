/**
 * Names on the wire. These are part of the public contract between services: never rename one casually,
 * a renamed queue or routing key strands every message already in flight.
 */
export const EXCHANGES = {
  commands: 'geojobs.commands',
  events: 'geojobs.events',
  retry: 'geojobs.retry',
  deadLetter: 'geojobs.dlx',
} as const;

export const QUEUES = {
  geo: 'geo_q',
  export: 'export_q',
  analytics: 'analytics_q',
  saga: 'saga_q',
  followup: 'followup_q',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * Where each work queue takes its messages from: exchange and routing-key patterns. Kept literal (`as const`) so the
 * compiler knows which commands reach which queue: a worker declaration must handle every one (see TopicMatches).
 */
export const QUEUE_BINDINGS = {
  geo_q: { exchange: EXCHANGES.commands, patterns: ['geo.#'] },
  export_q: { exchange: EXCHANGES.commands, patterns: ['export.#', 'package.#'] },
  analytics_q: { exchange: EXCHANGES.commands, patterns: ['analytics.#'] },
  saga_q: { exchange: EXCHANGES.events, patterns: ['job.#'] },
  followup_q: { exchange: EXCHANGES.commands, patterns: ['followup.#'] },
} as const satisfies Record<QueueName, { exchange: string; patterns: readonly string[] }>;

/** The queues fed from the commands exchange: the ones a worker consumes. */
export type CommandQueue = {
  [Q in QueueName]: (typeof QUEUE_BINDINGS)[Q]['exchange'] extends typeof EXCHANGES.commands ? Q : never;
}[QueueName];

type Words<S extends string> = S extends `${infer Head}.${infer Rest}` ? [Head, ...Words<Rest>] : [S];

type WordsMatch<Key extends string[], Pattern extends string[]> = Pattern extends []
  ? Key extends []
    ? true
    : false
  : Pattern extends ['#', ...infer Rest extends string[]]
    ? WordsMatch<Key, Rest> extends true
      ? true
      : Key extends [string, ...infer KeyRest extends string[]]
        ? WordsMatch<KeyRest, Pattern>
        : false
    : Pattern extends [infer Word extends string, ...infer Rest extends string[]]
      ? Key extends [infer KeyWord extends string, ...infer KeyRest extends string[]]
        ? Word extends '*' | KeyWord
          ? WordsMatch<KeyRest, Rest>
          : false
        : false
      : false;

/** Whether a topic exchange routes `Key` to a binding of `Pattern` (`*` one word, `#` zero or more), for the compiler. */
export type TopicMatches<Key extends string, Pattern extends string> = WordsMatch<Words<Key>, Words<Pattern>>;

/** The same rule at run time: whether a binding of `pattern` receives a message published under `key`. */
export function topicMatches(pattern: string, key: string): boolean {
  const words = key.split('.');
  const parts = pattern.split('.');
  const match = (w: number, p: number): boolean => {
    if (p === parts.length) return w === words.length;
    if (parts[p] === '#') return match(w, p + 1) || (w < words.length && match(w + 1, p));
    return w < words.length && (parts[p] === '*' || parts[p] === words[w]) && match(w + 1, p + 1);
  };
  return match(0, 0);
}

export const deadLetterQueueOf = (queue: string): string => `${queue}.dlq`;

/** Delays of the retry tiers; a failed delivery waits in the tier's holding queue, then returns to its queue. */
export const RETRY_DELAYS_MS = [1_000, 5_000, 30_000] as const;
export const retryQueueOf = (delayMs: number): string => `geojobs.retry.${delayMs}`;

/** Headers geojobs sets on messages it retries or dead-letters. */
export const HEADERS = {
  attempts: 'x-geojobs-attempts',
  /** Picks the retry holding queue; no `x-` prefix, since a headers exchange ignores those when matching. */
  retryDelay: 'geojobs-retry-delay',
  reason: 'x-geojobs-reason',
  error: 'x-geojobs-error',
  originalQueue: 'x-geojobs-original-queue',
  originalRoutingKey: 'x-geojobs-original-routing-key',
  deadLetteredAt: 'x-geojobs-dead-lettered-at',
} as const;

/** Services that run work; a `noop` job names one of them. */
export const SERVICES = ['geo', 'export', 'analytics'] as const;
export type ServiceName = (typeof SERVICES)[number];
