import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DB_ROLES, ensureRole } from '#shared';

/**
 * Data packages: the boundaries they are clipped to, one row per (boundary, processor, version) output, and each
 * boundary's datapackage.json with its provenance log.
 *
 * `outputs` is what makes "exists / running" atomic: its primary key is (boundary, processor, version), and a
 * processor claims its output with one INSERT … ON CONFLICT DO UPDATE … WHERE the existing row may be taken over
 * (failed, or its own job's, or a run whose heartbeat stopped): whoever gets the row back runs, everyone else reads
 * `succeeded` (skipped: exists) or `running` (skipped: running). No check-then-set, so eight identical requests at
 * once run each processor once.
 *
 * The gateway serves these tables (GET /boundaries, /packages, the CCG /v1 API) through the read-only
 * `geojobs_packages_reader` role, as it serves layers through `geojobs_layers_reader`: a catalogue of its own fed by
 * events would copy geometries into the jobs database and could lag behind what export-service decides; a SELECT
 * grant on three tables cannot change anything.
 */
export class PackagesBoundaries1764700000000 implements MigrationInterface {
  name = 'PackagesBoundaries1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE packages.boundaries (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        name_long text NOT NULL,
        admin_level text NOT NULL,
        geometry geometry(MultiPolygon, 4326) NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('CREATE INDEX boundaries_geometry ON packages.boundaries USING gist (geometry)');
    await queryRunner.query(`
      CREATE TABLE packages.outputs (
        boundary text NOT NULL,
        processor text NOT NULL,
        version text NOT NULL,
        state text NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
        job_id uuid NOT NULL,
        files jsonb NOT NULL DEFAULT '[]',
        source text,
        error jsonb,
        started_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        PRIMARY KEY (boundary, processor, version)
      )`);
    await queryRunner.query(`
      CREATE TABLE packages.datapackages (
        boundary text PRIMARY KEY,
        datapackage jsonb NOT NULL,
        provenance jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    for (const table of ['boundaries', 'outputs', 'datapackages']) await queryRunner.query(`ALTER TABLE packages.${table} OWNER TO ${DB_ROLES.export}`);
    await queryRunner.query(`ALTER SEQUENCE packages.boundaries_id_seq OWNER TO ${DB_ROLES.export}`);

    await queryRunner.query(ensureRole(DB_ROLES.packagesReader, false));
    await queryRunner.query(`GRANT USAGE ON SCHEMA packages TO ${DB_ROLES.packagesReader}`);
    await queryRunner.query(`GRANT SELECT ON packages.boundaries, packages.outputs, packages.datapackages TO ${DB_ROLES.packagesReader}`);
    await queryRunner.query(`GRANT ${DB_ROLES.packagesReader} TO ${DB_ROLES.gateway}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`REVOKE ${DB_ROLES.packagesReader} FROM ${DB_ROLES.gateway}`);
    await queryRunner.query(`REVOKE USAGE ON SCHEMA packages FROM ${DB_ROLES.packagesReader}`);
    await queryRunner.query('DROP TABLE packages.datapackages, packages.outputs, packages.boundaries');
  }
}
