import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { LAYERS_SCHEMA, type Envelope, type GeoLayerDeleteV1, type JobReporter } from '#shared';
import { layerTableName, quoteIdent } from '../geopreview/layer-name.js';

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

  async run(command: Envelope<GeoLayerDeleteV1>, reporter: JobReporter): Promise<void> {
    await reporter.started(command);
    try {
      const deleted = await this.delete(command.payload);
      this.logger.info({ deleted }, 'layers deleted');
      await reporter.succeeded(command, { deleted, layerId: command.payload.layerId ?? null, resourceId: command.payload.resourceId ?? null });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      await reporter.failed(command, { type: 'delete', class: failure.name, message: failure.message });
    }
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
    const rows = (await this.database.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename = ANY($2)`, [LAYERS_SCHEMA, names])) as {
      tablename: string;
    }[];
    return rows.map((row) => row.tablename);
  }

  private async ofResource(resourceId: string): Promise<string[]> {
    const single = layerTableName(resourceId);
    const rows = (await this.database.query(
      `SELECT tablename FROM pg_tables WHERE schemaname = $1 AND (tablename = $2 OR tablename LIKE $3) ORDER BY tablename`,
      [LAYERS_SCHEMA, single, `${likeLiteral(single)}\\_\\_%`],
    )) as { tablename: string }[];
    return rows.map((row) => row.tablename);
  }
}
