import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import type { Logger } from 'pino';
import type { ServiceConfig } from '../config/config.js';
import { JobCancellations } from '../jobs/job-cancellations.js';
import { Workers } from '../jobs/workers.js';
import { Broker, type BrokerOptions } from './broker.js';

@Injectable()
class BrokerLifecycle implements OnModuleInit, BeforeApplicationShutdown {
  constructor(@Inject(Broker) private readonly broker: Broker) {}

  async onModuleInit(): Promise<void> {
    await this.broker.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.broker.close();
  }
}

/** `/health` reports the broker down while the connection is being recovered. */
@Injectable()
export class BrokerHealthIndicator {
  constructor(
    @Inject(Broker) private readonly broker: Broker,
    @Inject(HealthIndicatorService) private readonly health: HealthIndicatorService,
  ) {}

  check(key = 'broker') {
    const session = this.health.check(key);
    return this.broker.connected ? session.up() : session.down({ message: 'not connected to RabbitMQ; reconnecting' });
  }
}

export function brokerOptionsFrom(config: ServiceConfig, connectionName: string): BrokerOptions {
  return {
    urls: config.GEOJOBS_AMQP_URL,
    connectionName,
    deliveryLimit: config.GEOJOBS_DELIVERY_LIMIT,
    retryDelaysMs: config.GEOJOBS_RETRY_DELAYS_MS,
    maxAttempts: config.GEOJOBS_MAX_ATTEMPTS,
    maxUnconfirmed: config.GEOJOBS_MAX_UNCONFIRMED,
    heartbeatSeconds: 15,
  };
}

/** One broker connection per process, shared by every module. */
@Module({})
export class BrokerModule {
  static forRoot(options: BrokerOptions, logger: Logger): DynamicModule {
    return {
      module: BrokerModule,
      global: true,
      imports: [TerminusModule],
      providers: [
        { provide: Broker, useFactory: () => new Broker(options, logger.child({ component: 'broker' })) },
        BrokerLifecycle,
        BrokerHealthIndicator,
        JobCancellations,
        {
          provide: Workers,
          useFactory: (broker: Broker, cancellations: JobCancellations) => new Workers(broker, cancellations, logger.child({ component: 'worker' })),
          inject: [Broker, JobCancellations],
        },
      ],
      exports: [Broker, BrokerHealthIndicator, JobCancellations, Workers],
    };
  }
}
