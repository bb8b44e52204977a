/** SQLSTATE classes and codes that mean the server is not there (or not yet, or no longer), not that the query is wrong. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const UNAVAILABLE_MESSAGES = [/^Connection terminated/, /timeout exceeded when trying to connect/, /^Client has encountered a connection error/];
/**
 * TypeORM's Postgres query runner releases itself when its connection emits an error (a backend killed, a server
 * restarting); the transaction's next statement then fails with this error instead of the connection's own. Our code
 * never keeps a runner past its transaction, so here it means the connection was lost between two statements.
 */
const RELEASED_RUNNER = 'QueryRunnerProviderAlreadyReleasedError';

/**
 * Whether an error thrown by a database call means PostgreSQL cannot be reached right now — refused, restarting,
 * shutting down, out of connections, a connection cut — rather than a fault of the request or of the code: the
 * gateway then answers 503 and recovers by itself when the database is back (the pool opens new connections).
 * TypeORM wraps driver errors (`driverError`) and keeps pg's `code`.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Object && depth < 5; depth++) {
    const { code, message, driverError, cause } = current as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_NODE_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
    if ((current as Error).name === RELEASED_RUNNER) return true;
    if (current instanceof AggregateError && current.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    current = driverError ?? cause;
  }
  return false;
}
