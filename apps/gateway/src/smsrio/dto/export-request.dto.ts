import { ApiProperty } from '@nestjs/swagger';

/** `POST /export/`, for OpenAPI; the body is checked by exportRequest (FastAPI's 422 answers) and the job's input. */
export class ExportRequestDto {
  @ApiProperty({ required: false, example: 'gs://bucket/path/to/BACKUP.GDB', description: "the database file, as SMS-Rio's clients send it" })
  gcs_uri?: string;

  @ApiProperty({ required: false, description: 'the same, any scheme: http(s)://, s3://, gs://' })
  uri?: string;

  @ApiProperty({ required: false, type: [String], description: 'only these tables (all when absent)' })
  tables?: string[];

  @ApiProperty({ required: false, example: 'latin1', description: 'charset of the CSVs (UTF-8 when absent)' })
  charset?: string;
}
