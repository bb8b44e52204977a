import type { Principal } from './principal.js';

/**
 * Whose request-rate allowance a request uses: the API key it came with (each key its own, though several may
 * submit as one owner), the user a token was issued to (access and temporary tokens alike, so minting tokens
 * gains nothing), or, with no credential, the client address.
 */
export function rateLimitKey(principal: Principal | undefined, clientAddress: string | undefined): string {
  if (!principal) return `address:${clientAddress ?? 'unknown'}`;
  if (principal.via === 'api-key' && principal.keyId) return `api-key:${principal.keyId}`;
  return `user:${principal.name}`;
}
