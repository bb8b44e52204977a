import { Module } from '@nestjs/common';
import { EXPORT_CONFIG, type ExportConfig } from '../config/export.config.js';
import { ConvertService, TABLE_SOURCE_OPENERS } from './convert.service.js';
import { RemoteModule } from './remote/remote.module.js';
import { FirebirdOpener, firebirdServer } from './sources/firebird/firebird.opener.js';
import { GdalOpener } from './sources/gdal/gdal-opener.js';
import type { TableSourceOpener } from './table-source.js';

/** A zip input may expand to this many times the download cap at most, and this many times its own size. */
const UNPACKED_PER_DOWNLOAD = 4;
const MAX_UNPACK_RATIO = 200;
/** A FileGDB folder is tens of files; a zip of shapefiles four or more per table. */
const MAX_ARCHIVE_ENTRIES = 20_000;

/** `export.convert`: the service, the openers it picks from, and the remote files (http(s), s3://, gs://) it reads and writes. */
@Module({
  imports: [RemoteModule],
  providers: [
    ConvertService,
    {
      provide: TABLE_SOURCE_OPENERS,
      useFactory: (config: ExportConfig): TableSourceOpener[] => [
        new GdalOpener({
          maxUnpackedBytes: UNPACKED_PER_DOWNLOAD * config.GEOJOBS_EXPORT_MAX_DOWNLOAD_BYTES,
          maxRatio: MAX_UNPACK_RATIO,
          maxEntries: MAX_ARCHIVE_ENTRIES,
        }),
        new FirebirdOpener(firebirdServer(config)),
      ],
      inject: [EXPORT_CONFIG],
    },
  ],
  exports: [ConvertService],
})
export class ConvertModule {}
