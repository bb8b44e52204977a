import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ThrottlerModule } from '@nestjs/throttler';
import type { GatewayConfig } from '../config/gateway.config.js';
import { AuthController } from './auth.controller.js';
import { AuthGuard } from './auth.guard.js';
import { AuthService } from './auth.service.js';
import { CredentialsRepository } from './credentials.repository.js';

@Module({})
export class AuthModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      imports: [
        JwtModule.register({ secret: config.GEOJOBS_JWT_SECRET, signOptions: { algorithm: 'HS256' } }),
        ThrottlerModule.forRoot([{ ttl: 60_000, limit: config.GEOJOBS_LOGIN_ATTEMPTS_PER_MINUTE }]),
      ],
      controllers: [AuthController],
      providers: [AuthService, CredentialsRepository, { provide: APP_GUARD, useClass: AuthGuard }],
      exports: [AuthService],
    };
  }
}
