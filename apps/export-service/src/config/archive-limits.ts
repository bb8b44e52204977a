import type { ArchiveLimits } from '#shared';
import type { ExportConfig } from './export.config.js';

/** A zip input may expand to this many times the download cap at most, and this many times its own size. */
const UNPACKED_PER_DOWNLOAD = 4;
const MAX_UNPACK_RATIO = 200;
/** A FileGDB folder is tens of files; a zip of shapefiles four or more per table. */
const MAX_ARCHIVE_ENTRIES = 20_000;

/** What export-service accepts as an archive, whichever export reads it (a file to convert, a dataset's resource). */
export const archiveLimits = (config: ExportConfig): ArchiveLimits => ({
  maxUnpackedBytes: UNPACKED_PER_DOWNLOAD * config.GEOJOBS_EXPORT_MAX_DOWNLOAD_BYTES,
  maxRatio: MAX_UNPACK_RATIO,
  maxEntries: MAX_ARCHIVE_ENTRIES,
});
