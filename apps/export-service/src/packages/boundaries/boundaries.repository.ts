import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A boundary as processors use it: the geometry (MultiPolygon, EPSG:4326) as GeoJSON, and its envelope. */
export interface Boundary {
  name: string;
  nameLong: string;
  adminLevel: string;
  geometry: { type: 'MultiPolygon'; coordinates: number[][][][] };
  envelope: { type: 'Polygon'; coordinates: number[][][] };
  /** [minX, minY, maxX, maxY]. */
  bbox: [number, number, number, number];
}

/** A boundary read from a boundaries file, its geometry as WKB in any polygonal type, EPSG:4326. */
export interface NewBoundary {
  name: string;
  nameLong: string;
  adminLevel: string;
  wkb: Buffer;
}

interface BoundaryRow {
  name: string;
  name_long: string;
  admin_level: string;
  geometry: string;
  envelope: string;
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

/** Rows one INSERT carries: boundaries are few (hundreds), but one may be a large polygon. */
const INSERT_BATCH = 50;

/** packages.boundaries, owned by export-service (the gateway reads it through geojobs_packages_reader). */
@Injectable()
export class BoundariesRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async find(name: string): Promise<Boundary | undefined> {
    const [row] = await this.db.query<BoundaryRow[]>(
      `SELECT name, name_long, admin_level, ST_AsGeoJSON(geometry) AS geometry, ST_AsGeoJSON(ST_Envelope(geometry)) AS envelope,
              ST_XMin(geometry) AS xmin, ST_YMin(geometry) AS ymin, ST_XMax(geometry) AS xmax, ST_YMax(geometry) AS ymax
       FROM packages.boundaries WHERE name = $1`,
      [name],
    );
    if (!row) return undefined;
    return {
      name: row.name,
      nameLong: row.name_long,
      adminLevel: row.admin_level,
      geometry: JSON.parse(row.geometry) as Boundary['geometry'],
      envelope: JSON.parse(row.envelope) as Boundary['envelope'],
      bbox: [row.xmin, row.ymin, row.xmax, row.ymax],
    };
  }

  /** Every boundary's name, in name order (a batch over "all"). */
  async names(): Promise<string[]> {
    const rows = await this.db.query<{ name: string }[]>('SELECT name FROM packages.boundaries ORDER BY name');
    return rows.map((row) => row.name);
  }

  /** Of these names, the ones that are not boundaries. */
  async missing(names: string[]): Promise<string[]> {
    const rows = await this.db.query<{ name: string }[]>('SELECT name FROM packages.boundaries WHERE name = ANY($1)', [names]);
    const found = new Set(rows.map((row) => row.name));
    return names.filter((name) => !found.has(name));
  }

  /**
   * Inserts the boundaries, replacing those of the same name, in one transaction: a file that fails half way leaves
   * the table as it was. Geometries are made valid and multi (a Polygon becomes a MultiPolygon).
   */
  async replace(boundaries: NewBoundary[]): Promise<void> {
    await this.db.transaction(async (manager) => {
      for (let start = 0; start < boundaries.length; start += INSERT_BATCH) {
        const batch = boundaries.slice(start, start + INSERT_BATCH);
        const values = batch.map((_, index) => `($${index * 4 + 1}, $${index * 4 + 2}, $${index * 4 + 3}, $${index * 4 + 4}::bytea)`);
        await manager.query(
          `INSERT INTO packages.boundaries (name, name_long, admin_level, geometry)
           SELECT v.name, v.name_long, v.admin_level,
                  ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromWKB(v.wkb), 4326)), 3))
           FROM (VALUES ${values.join(', ')}) AS v (name, name_long, admin_level, wkb)
           ON CONFLICT (name) DO UPDATE SET name_long = EXCLUDED.name_long, admin_level = EXCLUDED.admin_level,
             geometry = EXCLUDED.geometry, loaded_at = now()`,
          batch.flatMap((boundary) => [boundary.name, boundary.nameLong, boundary.adminLevel, boundary.wkb]),
        );
      }
    });
  }
}
