import { Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '#shared';
import { archiveLimits } from '../config/archive-limits.js';
import { EXPORT_CONFIG, type ExportConfig } from '../config/export.config.js';
import { ConvertService, TABLE_SOURCE_OPENERS } from './convert.service.js';
import { RemoteModule } from './remote/remote.module.js';
import { FirebirdOpener, firebirdServer } from './sources/firebird/firebird.opener.js';
import { GdalOpener } from './sources/gdal/gdal-opener.js';
import type { TableSourceOpener } from './table-source.js';

/** `export.convert`: the service, the openers it picks from, and the remote files (http(s), s3://, gs://) it reads and writes. */
@Module({
  imports: [RemoteModule],
  providers: [
    ConvertService,
    {
      provide: TABLE_SOURCE_OPENERS,
      useFactory: (config: ExportConfig, logger: Logger): TableSourceOpener[] => [
        new GdalOpener(archiveLimits(config)),
        new FirebirdOpener(firebirdServer(config), logger),
      ],
      inject: [EXPORT_CONFIG, LOGGER],
    },
  ],
  exports: [ConvertService],
})
export class ConvertModule {}
