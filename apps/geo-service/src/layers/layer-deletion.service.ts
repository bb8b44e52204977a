import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { JobFailure, LAYERS_SCHEMA, type GeoLayerDeleteV1, type JobResult, quoteIdent } from '#shared';
import { layerTableName } from '../geopreview/layer-name.js';

/** `LIKE` pattern text with its wildcards escaped. */
const likeLiteral = (text: string): string => text.replace(/[\\%_]/g, (char) => `\\${char}`);

/**
 * Drops previewed layers: one by its id, or every layer of a portal resource (`pre_<resource>` and, for a
 * multi-layer upload, `pre_<resource>__<layer>`). Only tables named like layers are touched, under the same
 * advisory lock as an import's swap, so a delete and an import of one layer never interleave. Deleting a layer
 * that is not there succeeds with `deleted: []`: the command is idempotent.
 */
export class LayerDeletionService {
  constructor(
    private readonly database: DataSource,
    private readonly logger: Logger,
  ) {}

  /** `geo.layer.delete`: what was dropped; a failure of the drop fails the job (type `delete`), it is not retried. */
  async run(payload: GeoLayerDeleteV1): Promise<JobResult> {
    let deleted: string[];
    try {
      deleted = await this.delete(payload);
    } catch (error) {
      throw JobFailure.of('delete', error);
    }
    this.logger.info({ deleted }, 'layers deleted');
    return { deleted, layerId: payload.layerId ?? null, resourceId: payload.resourceId ?? null };
  }

  async delete(payload: Pick<GeoLayerDeleteV1, 'layerId' | 'resourceId'>): Promise<string[]> {
    const tables = payload.layerId !== undefined ? await this.existing([payload.layerId]) : await this.ofResource(payload.resourceId!);
    const deleted: string[] = [];
    for (const table of tables) {
      await this.database.transaction(async (manager) => {
        await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${LAYERS_SCHEMA}.${table}`]);
        await manager.query(`DROP TABLE IF EXISTS ${LAYERS_SCHEMA}.${quoteIdent(table)} CASCADE`);
      });
      deleted.push(table);
    }
    return deleted;
  }

  private async existing(names: string[]): Promise<string[]> {
    const rows = await this.database.query<
      {
        tablename: string;
      }[]
    >(`SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename = ANY($2)`, [LAYERS_SCHEMA, names]);
    return rows.map((row) => row.tablename);
  }

  private async ofResource(resourceId: string): Promise<string[]> {
    const single = layerTableName(resourceId);
    const rows = await this.database.query<{ tablename: string }[]>(
      `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND (tablename = $2 OR tablename LIKE $3) ORDER BY tablename`,
      [LAYERS_SCHEMA, single, `${likeLiteral(single)}\\_\\_%`],
    );
    return rows.map((row) => row.tablename);
  }
}
