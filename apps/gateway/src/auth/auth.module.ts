import { createSecretKey } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ThrottlerModule } from '@nestjs/throttler';
import type { GatewayConfig } from '../config/gateway.config.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { CredentialsRepository } from './credentials.repository.js';
import { RequestRateGuard } from './request-rate.guard.js';

@Module({})
export class AuthModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      imports: [
        // A ready KeyObject: given a string, jsonwebtoken tries it as a public key on every verify, and fails.
        JwtModule.register({ secret: createSecretKey(Buffer.from(config.GEOJOBS_JWT_SECRET)), signOptions: { algorithm: 'HS256' } }),
        // the login throttle (ThrottlerGuard on POST /token); RequestRateGuard counts in the same storage
        ThrottlerModule.forRoot([{ ttl: 60_000, limit: config.GEOJOBS_LOGIN_ATTEMPTS_PER_MINUTE }]),
      ],
      controllers: [AuthController],
      // global guards run in this order: AuthGuard names the caller that RequestRateGuard counts
      providers: [AuthService, CredentialsRepository, { provide: APP_GUARD, useClass: AuthGuard }, { provide: APP_GUARD, useClass: RequestRateGuard }],
      exports: [AuthService],
    };
  }
}
