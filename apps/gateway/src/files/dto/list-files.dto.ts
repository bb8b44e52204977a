import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export const MAX_LISTED_FILES = 10_000;

/** `GET /files?prefix=&limit=` */
export class ListFilesQuery {
  @ApiProperty({ required: false, description: 'only keys starting with this, e.g. `exports/`', example: 'exports/' })
  @IsOptional()
  @IsString()
  @MaxLength(1_024)
  @Matches(/^[A-Za-z0-9._\-=+@/]*$/, { message: 'prefix may hold letters, digits, "/" and ._-=+@ only, as storage keys do' })
  prefix?: string;

  @ApiProperty({ required: false, default: 1_000, maximum: MAX_LISTED_FILES })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_LISTED_FILES)
  limit?: number;
}

export class StoredFileDto {
  @ApiProperty({ example: 'exports/6f1c0d2e-…/bundle.zip' })
  key!: string;

  @ApiProperty({ description: 'bytes' })
  size!: number;

  @ApiProperty({ example: '12.0 MiB' })
  humanSize!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  modifiedAt!: string;
}

export class FileListingDto {
  @ApiProperty()
  prefix!: string;

  @ApiProperty({ enum: ['local', 's3'] })
  backend!: 'local' | 's3';

  @ApiProperty({ type: [StoredFileDto], description: 'in key order' })
  files!: StoredFileDto[];

  @ApiProperty({ description: 'files listed' })
  count!: number;

  @ApiProperty({ description: 'bytes of the files listed' })
  totalSize!: number;

  @ApiProperty({ example: '1.2 GiB' })
  totalHumanSize!: string;

  @ApiProperty({ description: 'more files match than `limit`' })
  truncated!: boolean;
}
