import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectThrottlerStorage, ThrottlerException, type ThrottlerStorage } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { NO_RATE_LIMIT } from '#shared';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config.js';
import type { Principal } from './principal.js';
import { rateLimitKey } from './request-rate.js';

const MINUTE_MS = 60_000;

/**
 * The per-client request rate, after AuthGuard (which names the caller): at most GEOJOBS_RATE_LIMIT_PER_MINUTE
 * requests a minute for each API key, each user, and each address calling without a credential (rateLimitKey);
 * past it, 429 with Retry-After until the minute is over. Counted in @nestjs/throttler's storage (the same one as the
 * login throttle, under keys of its own), so one gateway counts on its own: with n gateways behind a balancer a
 * client gets up to n times the allowance. Routes marked @NoRateLimit() are not counted.
 */
@Injectable()
export class RequestRateGuard implements CanActivate {
  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const limit = this.config.GEOJOBS_RATE_LIMIT_PER_MINUTE;
    if (limit === 0 || this.reflector.getAllAndOverride<boolean>(NO_RATE_LIMIT, [context.getHandler(), context.getClass()])) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<Request & { principal?: Principal }>();
    const response = http.getResponse<Response>();
    const key = rateLimitKey(request.principal, request.ip);
    const counted = await this.storage.increment(key, MINUTE_MS, limit, MINUTE_MS, 'requests');
    response.setHeader('x-ratelimit-limit', String(limit));
    response.setHeader('x-ratelimit-remaining', String(Math.max(0, limit - counted.totalHits)));
    if (!counted.isBlocked) return true;
    response.setHeader('retry-after', String(counted.timeToBlockExpire));
    const who = request.principal ? (request.principal.via === 'api-key' ? 'this API key' : `user ${request.principal.name}`) : 'this address';
    throw new ThrottlerException(
      `${who} sent more than ${limit} requests in a minute (GEOJOBS_RATE_LIMIT_PER_MINUTE); try again in ${counted.timeToBlockExpire} s`,
    );
  }
}
