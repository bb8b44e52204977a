import { TypeOrmModule } from '@nestjs/typeorm';
import type { DynamicModule } from '@nestjs/common';
import type { DataSourceOptions } from 'typeorm';

/** Connections a service holds to PostgreSQL at most: so at most this many of its statements run at once. */
export const DATABASE_POOL_SIZE = 20;

/**
 * The service's connection to PostgreSQL, with its own least-privilege role (the URL's user). The schema is
 * the migrations' business: nothing is ever synchronised from the entities.
 */
export function databaseModule(url: string, entities: NonNullable<DataSourceOptions['entities']> = []): DynamicModule {
  return TypeOrmModule.forRoot({
    type: 'postgres',
    url,
    entities,
    synchronize: false,
    migrationsRun: false,
    extra: { max: DATABASE_POOL_SIZE },
  });
}
