import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { InvalidFieldsError, validated } from '../common/request-validation.js';
import { CreateJobDto } from '../jobs/dto/create-job.dto.js';
import { JobsService, type Submitted } from '../jobs/jobs.service.js';
import { EXPORT_KINDS, type ExportKind } from './dto/create-export.dto.js';

/** Exports are `export.layers`, `export.dataset` and `export.convert` jobs, run by export-service. */
@Injectable()
export class ExportsService {
  constructor(@Inject(JobsService) private readonly jobs: JobsService) {}

  async submit(principal: Principal, body: unknown): Promise<Submitted> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidFieldsError(['body must be an object']);
    const { kind, idempotencyKey, followups, ...input } = body as Record<string, unknown>;
    if (!EXPORT_KINDS.includes(kind as ExportKind)) throw new InvalidFieldsError([`kind must be one of: ${EXPORT_KINDS.join(', ')}`]);
    const request = validated(CreateJobDto, { type: `export.${kind as ExportKind}`, input, idempotencyKey, followups }, '');
    const [submitted] = await this.jobs.submit(principal, [request], '');
    return submitted;
  }
}
