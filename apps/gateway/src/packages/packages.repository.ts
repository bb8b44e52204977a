import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { JobError, JobState } from '../job-model/job.model.js';

export interface BoundarySummaryRow {
  name: string;
  name_long: string;
}

export interface BoundaryRow extends BoundarySummaryRow {
  admin_level: string;
  geometry: string;
  envelope: string;
}

export interface OutputRow {
  processor: string;
  version: string;
  files: { path: string; name: string; bytes: number; hash: string }[];
  finished_at: Date | null;
}

/** A processor part of a package job (`package.process`), as the CCG job status shows it. */
export interface PartRow {
  id: string;
  state: JobState;
  progress_current: number;
  progress_total: number;
  progress_message: string;
  input: { processor?: string };
  result: Record<string, unknown> | null;
  error: JobError | null;
}

/**
 * Reads export-service's packages schema through the gateway's role, which holds only SELECT there
 * (geojobs_packages_reader, the second read across the line after layers): boundaries, finished outputs and
 * datapackages, written by export-service alone. And the parts of package jobs, from the gateway's own jobs table.
 */
@Injectable()
export class PackagesRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  boundaries(): Promise<BoundarySummaryRow[]> {
    return this.db.query('SELECT name, name_long FROM packages.boundaries ORDER BY name_long, name');
  }

  /** Case-insensitive, partial, on the name or the long name (irv-autopkg matched the long name only). */
  searchByName(text: string): Promise<BoundarySummaryRow[]> {
    const pattern = `%${text.toLowerCase().replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
    return this.db.query('SELECT name, name_long FROM packages.boundaries WHERE lower(name_long) LIKE $1 OR lower(name) LIKE $1 ORDER BY name_long, name', [
      pattern,
    ]);
  }

  /** The boundaries containing the point (GiST index on the geometry). */
  searchByPoint(latitude: number, longitude: number): Promise<BoundarySummaryRow[]> {
    return this.db.query(
      'SELECT name, name_long FROM packages.boundaries WHERE ST_Intersects(geometry, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY name_long, name',
      [longitude, latitude],
    );
  }

  async boundary(name: string): Promise<BoundaryRow | undefined> {
    const [row] = await this.db.query<BoundaryRow[]>(
      `SELECT name, name_long, admin_level, ST_AsGeoJSON(geometry) AS geometry, ST_AsGeoJSON(ST_Envelope(geometry)) AS envelope
       FROM packages.boundaries WHERE name = $1`,
      [name],
    );
    return row;
  }

  /** Boundaries with at least one finished output. */
  async packaged(): Promise<string[]> {
    const rows = await this.db.query<{ boundary: string }[]>(`SELECT DISTINCT boundary FROM packages.outputs WHERE state = 'succeeded' ORDER BY boundary`);
    return rows.map((row) => row.boundary);
  }

  outputs(boundary: string): Promise<OutputRow[]> {
    return this.db.query(
      `SELECT processor, version, files, finished_at FROM packages.outputs WHERE boundary = $1 AND state = 'succeeded' ORDER BY processor, version`,
      [boundary],
    );
  }

  async datapackage(boundary: string): Promise<Record<string, unknown> | undefined> {
    const [row] = await this.db.query<{ datapackage: Record<string, unknown> }[]>('SELECT datapackage FROM packages.datapackages WHERE boundary = $1', [
      boundary,
    ]);
    return row?.datapackage;
  }

  /** The processor parts of a package job, oldest first. */
  parts(jobId: string): Promise<PartRow[]> {
    return this.db.query(
      `SELECT id, state, progress_current, progress_total, progress_message, input, result, error
       FROM jobs.jobs WHERE parent_id = $1 AND type = 'package.process' ORDER BY created_at, id`,
      [jobId],
    );
  }
}
