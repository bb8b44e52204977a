import { isRetryableStatus, retryAfterMs } from '#shared';

/** What came back from a destination. */
export interface DestinationAnswer {
  status: number;
  body: string;
  retryAfter?: string;
}

/** One event of a batch that the destination refused, and its words for why. */
export interface RejectedRecord {
  index: number;
  reason: string;
}

/**
 * What to do with a batch after one try: it was taken (perhaps with some records refused for good), or the
 * destination could not take it now (429, 5xx, timeout, network) and it is tried again later.
 */
export type SendOutcome = { kind: 'accepted'; rejected: RejectedRecord[] } | { kind: 'retry'; reason: string; retryAfterMs: number };

interface MixpanelAnswerBody {
  status?: number | string;
  error?: string;
  failed_records?: { index?: number; insert_id?: string; $insert_id?: string; field?: string; message?: string }[];
}

const parse = (body: string): MixpanelAnswerBody | undefined => {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
};

/** An answer the destination may take later (408, 429, 5xx): tried again after the backoff, or its Retry-After. */
const retryLater = (answer: DestinationAnswer): SendOutcome => ({
  kind: 'retry',
  reason: `HTTP ${answer.status} ${answer.body.slice(0, 200)}`.trim(),
  retryAfterMs: retryAfterMs(answer.retryAfter),
});

const every = (count: number, reason: string): RejectedRecord[] => Array.from({ length: count }, (_, index) => ({ index, reason }));

/**
 * Reads a Mixpanel `/import` or `/track` answer (`strict=1`, `verbose=1`) for a batch of `count` events
 * whose `$insert_id`s are `insertIds`: a 400 names the refused records in `failed_records` (by index, or by
 * insert id) and Mixpanel kept the others; a 400 without them, or another 4xx, refuses the whole batch;
 * a 200 whose verbose body says `status: 0` too.
 */
export function mixpanelOutcome(answer: DestinationAnswer, insertIds: readonly string[]): SendOutcome {
  const count = insertIds.length;
  if (isRetryableStatus(answer.status)) return retryLater(answer);
  const body = parse(answer.body);
  if (answer.status >= 200 && answer.status < 300) {
    if (body?.status === 0) return { kind: 'accepted', rejected: every(count, `Mixpanel: ${body.error ?? 'status 0'}`) };
    return { kind: 'accepted', rejected: [] };
  }
  const failed = body?.failed_records;
  if (answer.status === 400 && Array.isArray(failed) && failed.length > 0) {
    const byInsertId = new Map(insertIds.map((id, index) => [id, index]));
    const rejected = new Map<number, string>();
    for (const record of failed) {
      const id = record.insert_id ?? record.$insert_id;
      const index = Number.isInteger(record.index) && record.index! >= 0 && record.index! < count ? record.index! : id ? byInsertId.get(id) : undefined;
      if (index === undefined) continue;
      const reason = [record.field, record.message].filter(Boolean).join(': ') || body?.error || 'failed validation';
      rejected.set(index, `Mixpanel 400: ${reason}`);
    }
    if (rejected.size > 0) return { kind: 'accepted', rejected: [...rejected].map(([index, reason]) => ({ index, reason })) };
  }
  const reason = body?.error ?? answer.body.slice(0, 500);
  return { kind: 'accepted', rejected: every(count, `Mixpanel ${answer.status}: ${reason}`.trim()) };
}

/** Reads a GA4 Measurement Protocol answer: 2xx taken; retryable codes retried; another 4xx refuses the batch. */
export function ga4Outcome(answer: DestinationAnswer, count: number): SendOutcome {
  if (isRetryableStatus(answer.status)) return retryLater(answer);
  if (answer.status >= 200 && answer.status < 300) return { kind: 'accepted', rejected: [] };
  return { kind: 'accepted', rejected: every(count, `GA4 ${answer.status}: ${answer.body.slice(0, 500)}`.trim()) };
}
