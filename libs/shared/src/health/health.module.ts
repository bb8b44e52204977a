import { Controller, Get, Inject, Module, type DynamicModule } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  TerminusModule,
  TypeOrmHealthIndicator,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import { BrokerHealthIndicator } from '../broker/broker.module.js';
import { Public } from '../http/public.decorator.js';

export interface HealthOptions {
  /** The service has a database connection (TypeORM) to check. */
  database: boolean;
}

const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');

@Public()
@Controller('health')
class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(BrokerHealthIndicator) private readonly broker: BrokerHealthIndicator,
    @Inject(TypeOrmHealthIndicator) private readonly database: TypeOrmHealthIndicator,
    @Inject(HEALTH_OPTIONS) private readonly options: HealthOptions,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    const checks: HealthIndicatorFunction[] = [() => this.broker.check('broker')];
    if (this.options.database) checks.push(() => this.database.pingCheck('database').withTimeout(1_500));
    return this.health.check(checks);
  }
}

/** `GET /health`: 200 when the broker (and the database, where the service has one) are up, 503 otherwise. */
@Module({})
export class HealthModule {
  static forRoot(options: HealthOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule],
      controllers: [HealthController],
      providers: [{ provide: HEALTH_OPTIONS, useValue: options }],
    };
  }
}
