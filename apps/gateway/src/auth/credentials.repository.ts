import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Role } from './principal.js';

@Injectable()
export class CredentialsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async findUser(username: string): Promise<{ username: string; passwordHash: string; role: Role } | undefined> {
    const rows: { username: string; password_hash: string; role: Role }[] = await this.db.query(
      'SELECT username, password_hash, role FROM jobs.users WHERE username = $1',
      [username],
    );
    return rows[0] && { username: rows[0].username, passwordHash: rows[0].password_hash, role: rows[0].role };
  }

  /** Creates the user unless one of that name exists; says whether it did. */
  async createUser(username: string, passwordHash: string, role: Role): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      'INSERT INTO jobs.users (username, password_hash, role) VALUES ($1, $2, $3) ON CONFLICT (username) DO NOTHING RETURNING username',
      [username, passwordHash, role],
    );
    return rows.length === 1;
  }

  async countAdmins(): Promise<number> {
    const [row]: { count: string }[] = await this.db.query(`SELECT count(*) FROM jobs.users WHERE role = 'admin'`);
    return Number(row.count);
  }

  async findApiKey(keyHash: string): Promise<{ id: string; owner: string; role: Role } | undefined> {
    const rows: { id: string; owner: string; role: Role }[] = await this.db.query(
      'SELECT id, owner, role FROM jobs.api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
      [keyHash],
    );
    return rows[0];
  }

  /** Revokes an API key (kept, marked, so the revocation is on record); false when there is no such key not revoked yet. */
  async revokeApiKey(id: string): Promise<boolean> {
    const rows: { id: string }[] = await this.db.query('UPDATE jobs.api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id]);
    return rows.length > 0;
  }

  async createApiKey(name: string, keyHash: string, role: Role, owner: string): Promise<string> {
    const id = randomUUID();
    await this.db.query('INSERT INTO jobs.api_keys (id, name, key_hash, role, owner) VALUES ($1, $2, $3, $4, $5)', [id, name, keyHash, role, owner]);
    return id;
  }
}
