import type { DataSource, EntityManager } from 'typeorm';

const DEADLOCK = '40P01';

/**
 * A transaction that is run again when PostgreSQL aborts it as one side of a deadlock: writers that lock the
 * same jobs in different orders (a cancel walking a saga down, the event applier settling its subtasks) may
 * meet, and the loser can simply try again.
 */
export async function transactionRetryingDeadlocks<T>(db: DataSource, work: (manager: EntityManager) => Promise<T>, retries = 3): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction(work);
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK || attempt >= retries) throw error;
    }
  }
}
