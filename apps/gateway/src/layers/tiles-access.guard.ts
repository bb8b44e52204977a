import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { AuthService } from '../auth/auth.service.js';
import { assertWithinScope } from '../auth/token-scope.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';

export const tilesArePublic = (config: GatewayConfig): boolean => config.GEOJOBS_PUBLIC_TILES !== 'false';

/**
 * Tile routes are @Public() for the app-wide guard: maps fetch tiles from the browser with no credential. With
 * GEOJOBS_PUBLIC_TILES=false this guard asks for one instead: any credential the API takes (a scoped
 * `TmpToken` limited to GET on `/layers/<id>/tiles` is what a map page should carry), or a portal key as `?key=`.
 */
@Injectable()
export class TilesAccessGuard implements CanActivate {
  constructor(
    @Inject(AuthService) private readonly auth: AuthService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (tilesArePublic(this.config)) return true;
    const request = context.switchToHttp().getRequest<Request>();
    const key = typeof request.query.key === 'string' ? request.query.key : undefined;
    const principal = await this.auth.authenticate(request.headers.authorization, key);
    if (!principal)
      throw new UnauthorizedException(
        'tiles need a credential here (GEOJOBS_PUBLIC_TILES=false): Authorization: TmpToken <token>, Bearer <token> or ApiKey <key>',
      );
    assertWithinScope(principal, request.method, request.path);
    return true;
  }
}
