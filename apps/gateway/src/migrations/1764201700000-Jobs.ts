import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Jobs, the transactional outbox, the inbox of handled messages, and the credentials of the API.
 * Duplicate submissions are refused by unique indexes (per owner: the idempotency key; and while a job is
 * queued or running: its type and input fingerprint), so the check is atomic under any concurrency.
 */
export class Jobs1764201700000 implements MigrationInterface {
  name = 'Jobs1764201700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE jobs.jobs (
        id uuid PRIMARY KEY,
        type text NOT NULL,
        state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'expired')),
        progress_current integer NOT NULL DEFAULT 0,
        progress_total integer NOT NULL DEFAULT 0,
        progress_message text NOT NULL DEFAULT '',
        input jsonb NOT NULL,
        input_fingerprint text NOT NULL,
        result jsonb,
        error jsonb,
        parent_id uuid REFERENCES jobs.jobs (id) ON DELETE CASCADE,
        idempotency_key text,
        followups jsonb NOT NULL DEFAULT '{}',
        saga jsonb,
        owner text NOT NULL,
        ckan jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz
      )`);
    await queryRunner.query(
      'CREATE UNIQUE INDEX jobs_owner_idempotency_key ON jobs.jobs (owner, idempotency_key) WHERE idempotency_key IS NOT NULL',
    );
    await queryRunner.query(`
      CREATE UNIQUE INDEX jobs_active_fingerprint ON jobs.jobs (owner, type, input_fingerprint)
      WHERE state IN ('queued', 'running') AND parent_id IS NULL AND idempotency_key IS NULL`);
    await queryRunner.query('CREATE INDEX jobs_parent ON jobs.jobs (parent_id) WHERE parent_id IS NOT NULL');
    await queryRunner.query('CREATE INDEX jobs_owner_created ON jobs.jobs (owner, created_at DESC)');
    await queryRunner.query('CREATE INDEX jobs_created ON jobs.jobs (created_at DESC)');

    await queryRunner.query(`
      CREATE TABLE jobs.outbox (
        id bigserial PRIMARY KEY,
        exchange text NOT NULL,
        envelope jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE jobs.inbox (
        message_id uuid PRIMARY KEY,
        handled_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE jobs.users (
        username text PRIMARY KEY,
        password_hash text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'portal', 'reader')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE jobs.api_keys (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        role text NOT NULL CHECK (role IN ('admin', 'portal', 'reader')),
        owner text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['api_keys', 'users', 'inbox', 'outbox', 'jobs']) await queryRunner.query(`DROP TABLE jobs.${table}`);
  }
}
