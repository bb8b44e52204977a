import { ForbiddenException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { IS_PUBLIC } from '#shared';
import { KEY_IN_QUERY, ROLES_ALLOWED, TOKEN_IN_QUERY } from './auth.decorators.js';
import { AuthService } from './auth.service.js';
import { assertWithinScope } from './token-scope.js';
import type { Principal, Role } from './principal.js';

const READ_METHODS = new Set(['GET', 'HEAD']);

/** Every route needs a credential unless marked @Public(); roles, scopes and read-only callers are enforced here. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AuthService) private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const queryKey = this.reflector.getAllAndOverride<boolean>(KEY_IN_QUERY, targets) ? request.query.key : undefined;
    const queryToken = this.reflector.getAllAndOverride<boolean>(TOKEN_IN_QUERY, targets) ? request.query.token : undefined;
    const authorization = request.headers.authorization ?? (typeof queryToken === 'string' ? `TmpToken ${queryToken}` : undefined);
    const principal = await this.auth.authenticate(authorization, typeof queryKey === 'string' ? queryKey : undefined);
    if (!principal) throw new UnauthorizedException('a valid credential is required: Authorization: Bearer <token>, ApiKey <key> or TmpToken <token>');

    assertWithinScope(principal, request.method, request.path);
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_ALLOWED, targets);
    if (roles && !roles.includes(principal.role)) throw new ForbiddenException(`this needs the role ${roles.join(' or ')}`);
    if (principal.role === 'reader' && !READ_METHODS.has(request.method)) throw new ForbiddenException('readers may only read');
    request.principal = principal;
    return true;
  }
}
