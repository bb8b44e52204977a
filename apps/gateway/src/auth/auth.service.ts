import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '#shared';
import { JwtService } from '@nestjs/jwt';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import { CredentialsRepository } from './credentials.repository.js';
import { ROLES, type Principal, type Role, type TokenScope } from './principal.js';
import { hashApiKey, hashPassword, newApiKey, newPassword, verifyPassword } from './secrets.js';
import { narrow } from './token-scope.js';

interface TokenClaims {
  sub: string;
  role: Role;
  typ: 'access' | 'temporary';
  scope?: TokenScope;
  /** Seconds since the epoch, set by the signer. */
  exp?: number;
}

/** Tokens whose signature was checked, kept to answer the same token's next requests without the HMAC again. */
const MAX_VERIFIED_TOKENS = 10_000;

export interface IssuedToken {
  access_token: string;
  token_type: string;
  expires_in: number;
}

@Injectable()
export class AuthService implements OnApplicationBootstrap {
  /**
   * Verified tokens and their claims, until the token expires. A token is signed and cannot be revoked, so the answer for
   * a token string never changes before its `exp`; a client sends the same token with every request, and verifying it
   * (base64, JSON, HMAC) cost about 0.1 ms of every request. A Map evicting the oldest entry (insertion order) bounds it: an
   * evicted token is only verified again, so least-recently-used order would buy nothing over a few lines.
   */
  private readonly verified = new Map<string, { claims: TokenClaims; until: number }>();

  constructor(
    @Inject(CredentialsRepository) private readonly credentials: CredentialsRepository,
    @Inject(JwtService) private readonly jwt: JwtService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The first admin: from GEOJOBS_ADMIN_USER/PASSWORD, or generated and printed once when there is none. */
  async onApplicationBootstrap(): Promise<void> {
    const { GEOJOBS_ADMIN_USER: user, GEOJOBS_ADMIN_PASSWORD: password } = this.config;
    if (user && password) {
      if (await this.credentials.createUser(user, await hashPassword(password), 'admin')) this.logger.info({ user }, 'created the first admin');
      return;
    }
    if ((await this.credentials.countAdmins()) > 0) return;
    const generated = newPassword();
    if (await this.credentials.createUser('admin', await hashPassword(generated), 'admin')) {
      process.stdout.write(`\n[gateway] created the first admin: user "admin", password "${generated}" (shown once)\n\n`);
    }
  }

  async login(username: string, password: string): Promise<IssuedToken | undefined> {
    const user = await this.credentials.findUser(username);
    if (!user || !(await verifyPassword(password, user.passwordHash))) return undefined;
    return this.issue({ sub: user.username, role: user.role, typ: 'access' }, this.config.GEOJOBS_TOKEN_TTL_SECONDS);
  }

  /** A short-lived token limited to some methods and path prefixes, minted by an authenticated caller. */
  mintTemporary(principal: Principal, scope: TokenScope, seconds: number): IssuedToken {
    const claims: TokenClaims = { sub: principal.name, role: principal.role, typ: 'temporary', scope: narrow(principal.scope, scope) };
    return { ...this.issue(claims, seconds), token_type: 'TmpToken' };
  }

  /**
   * The credential of a link handed to someone else (a result's `downloadUrl`): GET on `path` only, as `owner` with the
   * reader role, so that it can read that one thing of the owner's and change nothing.
   */
  linkToken(owner: string, path: string, seconds: number): string {
    return this.issue({ sub: owner, role: 'reader', typ: 'temporary', scope: { methods: ['GET'], paths: [path] } }, seconds).access_token;
  }

  async createUser(username: string, password: string, role: Role): Promise<boolean> {
    return this.credentials.createUser(username, await hashPassword(password), role);
  }

  /** Returns the key itself once; only its hash is kept. */
  async createApiKey(name: string, role: Role, owner: string): Promise<{ id: string; key: string }> {
    const key = newApiKey();
    const id = await this.credentials.createApiKey(name, hashApiKey(key), role, owner);
    return { id, key };
  }

  /** Who an `Authorization` header (or a `?key=` API key) belongs to; undefined when invalid, expired or absent. */
  async authenticate(authorization: string | undefined, queryKey: string | undefined): Promise<Principal | undefined> {
    if (authorization) {
      const [scheme, value = ''] = authorization.trim().split(/\s+/, 2);
      switch (scheme.toLowerCase()) {
        case 'bearer':
          return this.fromToken(value, 'access');
        case 'tmptoken':
          return this.fromToken(value, 'temporary');
        case 'apikey':
          return this.fromApiKey(value);
        default:
          // CKAN sends its key bare: `Authorization: <api key>`
          return value === '' ? this.fromApiKey(scheme) : undefined;
      }
    }
    return queryKey ? this.fromApiKey(queryKey) : undefined;
  }

  revokeApiKey(id: string): Promise<boolean> {
    return this.credentials.revokeApiKey(id);
  }

  async fromApiKey(key: string): Promise<Principal | undefined> {
    const found = await this.credentials.findApiKey(hashApiKey(key));
    return found && { name: found.owner, role: found.role, via: 'api-key', keyId: found.id };
  }

  private async fromToken(token: string, expected: TokenClaims['typ']): Promise<Principal | undefined> {
    try {
      const claims = await this.verify(token);
      if (claims.typ !== expected || !ROLES.includes(claims.role)) return undefined;
      return expected === 'temporary'
        ? { name: claims.sub, role: claims.role, via: 'temporary-token', scope: claims.scope }
        : { name: claims.sub, role: claims.role, via: 'password' };
    } catch {
      return undefined;
    }
  }

  /** The token's claims if its signature is good and it has not expired; throws otherwise (as JwtService does). */
  private async verify(token: string): Promise<TokenClaims> {
    const known = this.verified.get(token);
    if (known && Date.now() < known.until) return known.claims;
    if (known) this.verified.delete(token);
    const claims = await this.jwt.verifyAsync<TokenClaims>(token, { algorithms: ['HS256'] });
    // a token without `exp` (none is issued so) is verified every time rather than trusted for ever
    if (claims.exp !== undefined) {
      if (this.verified.size >= MAX_VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { claims, until: claims.exp * 1_000 });
    }
    return claims;
  }

  private issue(claims: TokenClaims, seconds: number): IssuedToken {
    return {
      access_token: this.jwt.sign({ ...claims }, { expiresIn: seconds, algorithm: 'HS256' }),
      token_type: 'Bearer',
      expires_in: seconds,
    };
  }
}
