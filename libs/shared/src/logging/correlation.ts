import { AsyncLocalStorage } from 'node:async_hooks';

/** What every log line written while handling one request or message carries. */
export interface CorrelationContext {
  correlationId: string;
  messageId?: string;
}

const storage = new AsyncLocalStorage<CorrelationContext>();

export const CORRELATION_HEADER = 'x-correlation-id';

export function runWithCorrelation<T>(context: CorrelationContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentCorrelation(): CorrelationContext | undefined {
  return storage.getStore();
}
