import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Principal, Role } from './principal.js';

export const ROLES_ALLOWED = 'geojobs:roles';
export const KEY_IN_QUERY = 'geojobs:key-in-query';
export const TOKEN_IN_QUERY = 'geojobs:token-in-query';

export { NoRateLimit, Public } from '#shared';

/** Only these roles may call the route. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_ALLOWED, roles);

/** The route also takes a portal API key as `?key=` (HDX calls it from URL templates, without headers). */
export const KeyInQuery = () => SetMetadata(KEY_IN_QUERY, true);

/**
 * The route also takes a temporary token as `?token=` (a download link a browser opens, which cannot send headers);
 * only a TmpToken, whose scope the guard checks as for the header.
 */
export const TokenInQuery = () => SetMetadata(TOKEN_IN_QUERY, true);

/** The authenticated caller. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => context.switchToHttp().getRequest<{ principal: Principal }>().principal,
);
