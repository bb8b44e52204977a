import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import pg from 'pg';
import { LAYERS_SCHEMA } from '#shared';
import { EXPORT_CONFIG, type ExportConfig } from '../config/export.config.js';
import { PostgisLayer } from '../formats/index.js';

/** A layer table's import stamp: its comment (geo-service's `geojobs import <hash>`) and its OID, both new on every import. */
export interface LayerStamp {
  layer: string;
  stamp: string;
}

/**
 * The layers schema as export-service reads it: through its own read-only role (GEOJOBS_EXPORT_DATABASE_URL), on a
 * pool of plain `pg` connections, since COPY streams need the driver itself.
 */
@Injectable()
export class LayersRepository implements OnModuleDestroy {
  readonly pool: pg.Pool;

  constructor(@Inject(EXPORT_CONFIG) private readonly config: ExportConfig) {
    this.pool = new pg.Pool({ connectionString: config.GEOJOBS_EXPORT_DATABASE_URL, max: 6, application_name: 'export-service-layers' });
    // an idle connection the server ended is dropped by the pool; the error must not end the process
    this.pool.on('error', () => undefined);
  }

  /** The stamps of the layers that exist, in the order asked; a layer missing from the answer has no table. */
  async stamps(layers: string[]): Promise<LayerStamp[]> {
    const { rows } = await this.pool.query<{ layer: string; oid: string; comment: string | null }>(
      `SELECT c.relname AS layer, c.oid::int8::text AS oid, obj_description(c.oid, 'pg_class') AS comment
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind IN ('r', 'p', 'v', 'm')`,
      [LAYERS_SCHEMA, layers],
    );
    const byName = new Map(rows.map((row) => [row.layer, `${row.comment ?? 'no import comment'} (oid ${row.oid})`]));
    return layers.filter((layer) => byName.has(layer)).map((layer) => ({ layer, stamp: byName.get(layer)! }));
  }

  /** The layer's table, opened for export; undefined when it is gone. */
  open(layer: string): Promise<PostgisLayer | undefined> {
    return PostgisLayer.open(this.pool, this.config.GEOJOBS_EXPORT_DATABASE_URL, layer);
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
  }
}
