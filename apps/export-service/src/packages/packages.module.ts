import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { STORAGE, type Storage } from '#shared';
import { EXPORT_CONFIG, type ExportConfig } from '../config/export.config.js';
import { BoundariesLoadService } from './boundaries/boundaries-load.service.js';
import { BoundariesRepository } from './boundaries/boundaries.repository.js';
import { OutputsRepository } from './outputs/outputs.repository.js';
import { PackageService } from './package.service.js';
import { PACKAGE_PROCESSORS } from './processors/processor.js';
import { processorRegistry } from './processors/processors.registry.js';
import { DatapackagesRepository } from './provenance/datapackages.repository.js';

/** Data packages: boundaries, processors, and the package saga (`package.*` commands). */
@Module({
  providers: [
    BoundariesRepository,
    OutputsRepository,
    DatapackagesRepository,
    BoundariesLoadService,
    PackageService,
    {
      provide: PACKAGE_PROCESSORS,
      useFactory: (database: DataSource, storage: Storage, config: ExportConfig) => processorRegistry(database, storage, config),
      inject: [DataSource, STORAGE, EXPORT_CONFIG],
    },
  ],
  exports: [PackageService, BoundariesLoadService],
})
export class PackagesModule {}
