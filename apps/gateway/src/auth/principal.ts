export const ROLES = ['admin', 'portal', 'reader'] as const;
export type Role = (typeof ROLES)[number];

/** Limits of a temporary token: the HTTP methods and path prefixes it may be used for. */
export interface TokenScope {
  methods: string[];
  paths: string[];
}

/** Who is calling: the owner of the jobs they submit, with a role, maybe limited by a temporary token's scope. */
export interface Principal {
  name: string;
  role: Role;
  via: 'password' | 'api-key' | 'temporary-token';
  scope?: TokenScope;
  /** The id of the API key the caller used (`via: 'api-key'`): what its request rate is counted by. */
  keyId?: string;
}

/** Admins, and readers (operators watching the dashboard: they see every job and change nothing). */
export const canSeeAll = (principal: Principal): boolean => principal.role === 'admin' || principal.role === 'reader';
