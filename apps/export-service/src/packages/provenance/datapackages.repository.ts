import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { DataPackage, ProvenanceEntry } from './datapackage.js';

/** packages.datapackages: each boundary's current datapackage.json and provenance log, as the gateway serves them. */
@Injectable()
export class DatapackagesRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * Runs `work` holding the boundary's package lock: provenance runs of concurrent packages of one boundary write its
   * datapackage.json one after the other, each from the outputs committed before it, so the last written is complete.
   */
  underLock<T>(boundary: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('geojobs.packages:' || $1))`, [boundary]);
      return work(manager);
    });
  }

  async save(manager: EntityManager, boundary: string, datapackage: DataPackage, provenance: ProvenanceEntry[]): Promise<void> {
    await manager.query(
      `INSERT INTO packages.datapackages (boundary, datapackage, provenance) VALUES ($1, $2::jsonb, $3::jsonb)
       ON CONFLICT (boundary) DO UPDATE SET datapackage = EXCLUDED.datapackage, provenance = EXCLUDED.provenance, updated_at = now()`,
      [boundary, JSON.stringify(datapackage), JSON.stringify(provenance)],
    );
  }
}
