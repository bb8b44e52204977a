/** The stage of the geopreview that failed, as the portal shows it (`error_type`). */
export type GeopreviewErrorType = 'download' | 'unpack' | 'format' | 'import' | 'describe';

/**
 * A failure of a geopreview the user can act on: the file, its address or its content is at fault, so the job
 * fails with a readable message instead of being retried. `class` (the portal's `error_class`) is the name.
 */
export abstract class GeopreviewError extends Error {
  abstract readonly type: GeopreviewErrorType;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class DownloadError extends GeopreviewError {
  readonly type = 'download';
}

/** The address is private, loopback or otherwise not reachable by policy. */
export class AddressRefusedError extends DownloadError {}

export class FileTooLargeError extends DownloadError {}

export class DownloadTimeoutError extends DownloadError {}

export class UnpackError extends GeopreviewError {
  readonly type = 'unpack';
}

/** An archive entry that would land outside the scratch folder: absolute, `..`, or a link. */
export class UnsafeArchiveEntryError extends UnpackError {}

/** An archive that expands to more than allowed, in size or ratio. */
export class ArchiveTooLargeError extends UnpackError {}

export class FormatError extends GeopreviewError {
  readonly type = 'format';
}

/** The bytes are not what the extension (or the declared format) says. */
export class FormatMismatchError extends FormatError {}

export class UnsupportedFormatError extends FormatError {}

/** GDAL could not read the file: corrupt or truncated. */
export class UnreadableFileError extends FormatError {}

/** KML or other XML declaring entities (external entities could read local files or reach the network). */
export class XmlEntityError extends FormatError {}

export class LayerImportError extends GeopreviewError {
  readonly type = 'import';
}

export class DescribeError extends GeopreviewError {
  readonly type = 'describe';
}
