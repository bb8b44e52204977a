import { ApiProperty } from '@nestjs/swagger';
import { EXPORT_FORMATS } from '#shared';

export const EXPORT_KINDS = ['layers', 'dataset', 'convert'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/**
 * `POST /exports`: `kind` picks the job type (`export.<kind>`); the other fields are that type's input, besides
 * `idempotencyKey` and `followups`, which are the job's as in `POST /jobs`. Documents the body for OpenAPI; the body
 * is validated by the job type's own input class.
 */
export class CreateExportDto {
  @ApiProperty({ enum: EXPORT_KINDS })
  kind!: ExportKind;

  @ApiProperty({ required: false, type: [String], description: 'layers: the layer ids' })
  layers?: string[];

  @ApiProperty({ required: false, enum: EXPORT_FORMATS, isArray: true, description: 'layers, dataset: all four when absent' })
  formats?: string[];

  @ApiProperty({ required: false, description: 'layers: the ZIP file name without .zip' })
  name?: string;

  @ApiProperty({ required: false, description: "dataset: the portal dataset's id or name" })
  datasetId?: string;

  @ApiProperty({ required: false, description: 'convert: http(s), s3:// or gs:// URI of the database file' })
  uri?: string;

  @ApiProperty({ required: false, type: [String], description: 'convert: only these tables' })
  tables?: string[];

  @ApiProperty({ required: false, description: 'convert: charset of the CSVs (default utf-8)' })
  charset?: string;

  @ApiProperty({ required: false, description: 'convert: where the ZIP goes (default: beside the input when in a bucket)' })
  output?: string;
}
