import { TypeOrmModule } from '@nestjs/typeorm';
import type { DynamicModule } from '@nestjs/common';
import type { DataSourceOptions } from 'typeorm';

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
    extra: { max: 20 },
  });
}
