import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
  Validate,
  ValidateNested,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import iconv from 'iconv-lite';
import type { ContractsOf } from './contract.js';
import { LAYER_ID_PATTERN, SagaSummaryV1 } from './geo.commands.js';
import { MAX_FANOUT_SUBTASKS } from './job.events.js';

/** The formats an export bundle holds, each layer in each: CSV (geometry as WKT), Shapefile, GeoPackage, GeoJSON. */
export const EXPORT_FORMATS = ['csv', 'shp', 'gpkg', 'geojson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Layers one `export.layers` job may bundle. */
export const MAX_EXPORT_LAYERS = 100;
/** Tables a `tables` selection of `export.convert` may name. */
export const MAX_CONVERT_TABLES = 1_000;

/** A bundle's file name, without `.zip`: letters, digits, `._-`, starting with a letter or digit. */
export const EXPORT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Charsets `export.convert` writes, as iconv-lite names them; a few examples for the error naming an unknown one. */
export const CHARSET_EXAMPLES = ['utf-8', 'latin1', 'windows-1252', 'iso-8859-15', 'utf-16le', 'cp850', 'koi8-r', 'shift_jis'] as const;

@ValidatorConstraint({ name: 'knownCharset' })
export class KnownCharset implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && iconv.encodingExists(value);
  }

  defaultMessage(): string {
    return `charset must be one iconv-lite knows, e.g. ${CHARSET_EXAMPLES.join(', ')}`;
  }
}

/** `export.layers`: previewed layers (tables of the layers schema) as one ZIP, each layer in each format, with a README. */
export class ExportLayersV1 {
  @IsUUID()
  jobId!: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_EXPORT_LAYERS)
  @ArrayUnique()
  @Matches(LAYER_ID_PATTERN, { each: true, message: 'each of layers must be a layer id (pre_ followed by lower-case letters, digits, _)' })
  layers!: string[];

  /** All four when absent. */
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(EXPORT_FORMATS, { each: true })
  formats?: ExportFormat[];

  /** The ZIP's name (`<name>.zip`); `export` when absent. */
  @IsOptional()
  @Matches(EXPORT_NAME_PATTERN, { message: 'name must be 1 to 100 letters, digits or ._- starting with a letter or digit' })
  name?: string;
}

/** `export.dataset`: a whole portal dataset (CKAN `package_show`), one subtask per resource, merged into a ZIP. */
export class ExportDatasetV1 {
  @IsUUID()
  jobId!: string;

  /** The CKAN dataset's id or name. */
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  datasetId!: string;

  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(EXPORT_FORMATS, { each: true })
  formats?: ExportFormat[];
}

/** One resource of a portal dataset, as `package_show` lists it (the fields an export uses). */
export class CkanResourceV1 {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  id!: string;

  @IsString()
  @MaxLength(1_000)
  name!: string;

  @IsString()
  @MaxLength(4_000)
  url!: string;

  /** The portal's format label (`GeoJSON`, `CSV`, `SHP`…), possibly empty. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  format?: string;
}

/**
 * `export.resource`: a subtask of a dataset export. Downloads one resource; converts a GIS one to the formats, copies
 * any other as it is; writes what it made under `prefix` in storage (where the merge finds it).
 */
export class ExportResourceV1 {
  @IsUUID()
  jobId!: string;

  @IsString()
  @MaxLength(200)
  datasetId!: string;

  @ValidateNested()
  @Type(() => CkanResourceV1)
  resource!: CkanResourceV1;

  @IsArray()
  @ArrayMinSize(1)
  @IsIn(EXPORT_FORMATS, { each: true })
  formats!: ExportFormat[];

  /** The storage folder (a key prefix ending in `/`) of this resource's outputs. */
  @Matches(/^[A-Za-z0-9._\-=+@/]+\/$/, { message: 'prefix must be a storage key prefix ending in /' })
  prefix!: string;
}

/** `export.dataset.merge`: every resource subtask has settled; builds the ZIP and README from what they left under `prefix`. */
export class ExportDatasetMergeV1 {
  @IsUUID()
  jobId!: string;

  @IsString()
  @MaxLength(200)
  datasetId!: string;

  /** The dataset's title, for the README. */
  @IsOptional()
  @IsString()
  @MaxLength(1_000)
  title?: string;

  /** The ZIP's name (`<name>.zip`): the dataset's name on the portal, made safe; `datasetId` made safe when absent. */
  @IsOptional()
  @Matches(EXPORT_NAME_PATTERN, { message: 'name must be 1 to 100 letters, digits or ._- starting with a letter or digit' })
  name?: string;

  @IsArray()
  @IsIn(EXPORT_FORMATS, { each: true })
  formats!: ExportFormat[];

  /** Every resource, in the dataset's order, one subtask each. */
  @IsArray()
  @ArrayMaxSize(MAX_FANOUT_SUBTASKS)
  @ValidateNested({ each: true })
  @Type(() => CkanResourceV1)
  resources!: CkanResourceV1[];

  /** The storage folder under which each resource's subtask wrote `<resource id>/`. */
  @Matches(/^[A-Za-z0-9._\-=+@/]+\/$/, { message: 'prefix must be a storage key prefix ending in /' })
  prefix!: string;

  @ValidateNested()
  @Type(() => SagaSummaryV1)
  saga!: SagaSummaryV1;
}

/**
 * `export.convert` (SMS-Rio's GDB export): a database file (Firebird backup or ODS 12 database, GeoPackage, SQLite,
 * zipped FileGDB or Shapefiles) at `uri` → a ZIP of CSVs, one per table, with a README.
 */
export class ExportConvertV1 {
  @IsUUID()
  jobId!: string;

  /** http(s), `s3://bucket/key` or `gs://bucket/key`. */
  @Matches(/^(https?|s3|gs):\/\/\S+$/i, { message: 'uri must be an http(s), s3:// or gs:// URI' })
  @MaxLength(4_000)
  uri!: string;

  /** Only these tables (or layers); every one when absent. */
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_CONVERT_TABLES)
  @ArrayUnique()
  @IsString({ each: true })
  @MaxLength(500, { each: true })
  tables?: string[];

  /** The CSVs' charset; UTF-8 when absent. */
  @IsOptional()
  @IsString()
  @Validate(KnownCharset)
  charset?: string;

  /** Where the ZIP goes (same schemes as `uri`); beside the input when that is in a bucket, else geojobs' storage. */
  @IsOptional()
  @Matches(/^(https?|s3|gs):\/\/\S+$/i, { message: 'output must be an http(s), s3:// or gs:// URI' })
  @MaxLength(4_000)
  output?: string;
}

export interface ExportCommands {
  'export.layers': ExportLayersV1;
  'export.dataset': ExportDatasetV1;
  'export.resource': ExportResourceV1;
  'export.dataset.merge': ExportDatasetMergeV1;
  'export.convert': ExportConvertV1;
}

export const EXPORT_COMMAND_CONTRACTS: ContractsOf<ExportCommands> = {
  'export.layers': { version: 1, payload: ExportLayersV1 },
  'export.dataset': { version: 1, payload: ExportDatasetV1 },
  'export.resource': { version: 1, payload: ExportResourceV1 },
  'export.dataset.merge': { version: 1, payload: ExportDatasetMergeV1 },
  'export.convert': { version: 1, payload: ExportConvertV1 },
};
