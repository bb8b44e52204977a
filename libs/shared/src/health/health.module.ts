import { Controller, Get, Inject, Module, Optional, type DynamicModule } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule, TypeOrmHealthIndicator, type HealthIndicatorFunction } from '@nestjs/terminus';
import { BrokerHealthIndicator } from '../broker/broker.module.js';
import { NoRateLimit, Public } from '../http/public.decorator.js';
import { StorageHealthIndicator } from './storage.health.js';

export interface HealthOptions {
  /** The service has a database connection (TypeORM) to check. */
  database: boolean;
  /** The service uses storage (StorageModule) and `/health` checks it can be reached and written. */
  storage?: boolean;
}

const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');

@Public()
@NoRateLimit()
@Controller('health')
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(BrokerHealthIndicator) private readonly broker: BrokerHealthIndicator,
    @Inject(TypeOrmHealthIndicator) private readonly database: TypeOrmHealthIndicator,
    @Inject(HEALTH_OPTIONS) private readonly options: HealthOptions,
    // provided only with `storage: true`, so services without storage need no StorageModule
    @Optional() @Inject(StorageHealthIndicator) private readonly storage?: StorageHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    const checks: HealthIndicatorFunction[] = [() => this.broker.check('broker')];
    if (this.options.database) checks.push(() => this.database.pingCheck('database').withTimeout(1_500));
    const storage = this.storage;
    if (storage) checks.push(() => storage.check('storage', 1_500));
    return this.health.check(checks);
  }
}

/**
 * `GET /health`: 200 when the broker (and the database and storage, where the service has them) are up,
 * 503 otherwise.
 */
@Module({})
export class HealthModule {
  static forRoot(options: HealthOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule],
      controllers: [HealthController],
      providers: [{ provide: HEALTH_OPTIONS, useValue: options }, ...(options.storage ? [StorageHealthIndicator] : [])],
    };
  }
}
