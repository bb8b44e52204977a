import type { CachedStepOutput, StepCache, StepCacheKey } from './step-cache.js';

/** What the cache needs of a database connection: TypeORM's `DataSource.query` (or an EntityManager's). */
export interface SqlQueryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}

interface StepCacheRow {
  output: unknown;
  created_at: Date;
}

/**
 * Step outputs in the `step_cache` table of a service's own schema (`layers` for geo-service, `packages` for
 * export-service; created by their migrations). Shared by every copy of the service, so a pipeline run on one
 * copy reuses the work of another.
 */
export class PostgresStepCache implements StepCache {
  private readonly table: string;

  constructor(
    private readonly db: SqlQueryable,
    schema: string,
  ) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`step cache schema must be a plain identifier, got "${schema}"`);
    this.table = `"${schema}".step_cache`;
  }

  async get(key: StepCacheKey): Promise<CachedStepOutput | undefined> {
    const rows = await this.db.query<StepCacheRow[]>(
      `SELECT output, created_at FROM ${this.table}
        WHERE fingerprint = $1 AND step = $2 AND version = $3 AND dependency_key = $4`,
      [key.fingerprint, key.step, key.version, key.dependencyKey],
    );
    const row = rows[0];
    return row && { output: row.output, createdAt: row.created_at };
  }

  async set(key: StepCacheKey, output: unknown): Promise<void> {
    // Two copies may compute the same step at once; the later write wins, and both wrote the same kind of data.
    await this.db.query(
      `INSERT INTO ${this.table} (fingerprint, step, version, dependency_key, output)
       VALUES ($1, $2, $3, $4, $5::jsonb)
       ON CONFLICT (fingerprint, step, version, dependency_key)
       DO UPDATE SET output = EXCLUDED.output, created_at = now()`,
      [key.fingerprint, key.step, key.version, key.dependencyKey, JSON.stringify(output) ?? 'null'],
    );
  }
}
