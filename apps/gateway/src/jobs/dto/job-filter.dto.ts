import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsDate, IsIn, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { JOB_STATES, type JobState } from '../../job-model/job.model.js';
import { BULK_ACTIONS, type BulkAction } from '../job-retry.js';

/** Which jobs: as query parameters of `GET /jobs` and `GET /jobs/count`, or the body of a bulk action. */
export class JobFilterQuery {
  @ApiProperty({ required: false, enum: JOB_STATES })
  @IsOptional()
  @IsIn(JOB_STATES)
  state?: JobState;

  @ApiProperty({ required: false })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  type?: string;

  @ApiProperty({ required: false, description: 'only an admin or a reader sees other owners’ jobs' })
  @IsOptional()
  @IsString()
  owner?: string;

  /** List this saga's subtasks instead of top-level jobs. */
  @ApiProperty({ required: false })
  @IsOptional()
  @IsUUID()
  parentId?: string;

  @ApiProperty({ required: false, description: 'created at or after (ISO 8601)' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  createdFrom?: Date;

  @ApiProperty({ required: false, description: 'created before (ISO 8601)' })
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  createdTo?: Date;

  @ApiProperty({ required: false, description: 'a job id, or any text of the input (dataset or resource id, URL, …)' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  q?: string;
}

/** The body of `POST /jobs/bulk/:action`: the filter of the list, and whether only to count. */
export class BulkJobsDto extends JobFilterQuery {
  @ApiProperty({ required: false, default: false, description: 'count the jobs it would act on, and do nothing' })
  @IsOptional()
  @IsBoolean()
  dryRun?: boolean;
}

export class BulkActionParams {
  @IsIn(BULK_ACTIONS)
  action!: BulkAction;
}
