import { Inject, Injectable } from '@nestjs/common';
import { STORAGE, type Storage } from '#shared';
import { canSeeAll, type Principal } from '../auth/principal.js';
import { validated } from '../common/request-validation.js';
import { isFinal } from '../job-model/job.model.js';
import { CreateJobDto } from '../jobs/dto/create-job.dto.js';
import { JobsService } from '../jobs/jobs.service.js';
import { checkAnswer, type CheckAnswer } from './check-answer.js';
import { exportRequest } from './export-request.js';
import { formatBytes } from './format-bytes.js';
import { JobsRepository } from '../jobs/jobs.repository.js';
import { SmsRioRepository } from './smsrio.repository.js';
import { ExportsRunningError } from './smsrio.errors.js';
import { groupByFolder, jobIdOf, WORKING_PREFIX } from './working-files.js';

/** `/list/` reads at most this many working files: the answer is for people, and has no way to say it was cut. */
const MAX_LISTED = 10_000;

/**
 * SMS-Rio's GDB export API on geojobs: an export is an `export.convert` job (queued, run by export-service, cancelled
 * by `POST /jobs/:id/cancel`), its task id the job id; callers see their own exports, admins everyone's.
 */
@Injectable()
export class SmsRioService {
  constructor(
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(SmsRioRepository) private readonly repository: SmsRioRepository,
    @Inject(JobsRepository) private readonly jobRows: JobsRepository,
    @Inject(STORAGE) private readonly storage: Storage,
  ) {}

  /** `POST /export/`: the ZIP goes where the convert job puts it by default, beside an input that is in a bucket. */
  async submit(principal: Principal, body: unknown): Promise<{ success: true; id: string }> {
    const input = exportRequest(body);
    const request = validated(CreateJobDto, { type: 'export.convert', input }, '');
    // a duplicate of an export queued or running answers with that export's id, as a second click would want
    const [submitted] = await this.jobs.submit(principal, [request], '');
    return { success: true, id: submitted.job.id };
  }

  async check(principal: Principal, id: string): Promise<CheckAnswer> {
    return checkAnswer(await this.jobs.get(principal, id));
  }

  /** `/list/`: the working files (storage under `convert/`) of the caller's exports, or of all for an admin. */
  async list(principal: Principal): Promise<Record<string, [string, string][]>> {
    const files: { key: string; size: number }[] = [];
    for await (const object of this.storage.list(WORKING_PREFIX)) {
      files.push({ key: object.key, size: object.size });
      if (files.length >= MAX_LISTED) break;
    }
    const visible = canSeeAll(principal) ? files : await this.ownFiles(principal, files);
    return groupByFolder(visible, formatBytes);
  }

  /**
   * `/clear/` (admins): removes the working files of finished exports, whose jobs then say `expired` if they had
   * succeeded. Refused while any export runs, naming them.
   * Files of an export that starts meanwhile are kept too: only folders whose job is finished (or gone) are removed.
   * Answers, as the original did with `os.listdir`, the folders left.
   */
  async clear(): Promise<string[]> {
    const running = await this.repository.runningExports();
    if (running.length > 0) throw new ExportsRunningError(running);
    const folders = new Set<string>();
    const loose: string[] = [];
    for await (const object of this.storage.list(WORKING_PREFIX)) {
      const id = jobIdOf(object.key);
      if (id) folders.add(id);
      else loose.push(object.key);
    }
    const jobs = await this.repository.jobs([...folders]);
    const left: string[] = [];
    const cleared: string[] = [];
    for (const id of folders) {
      const job = jobs.get(id);
      if (job && !isFinal(job.state)) {
        left.push(id);
        continue;
      }
      await this.storage.deletePrefix(`${WORKING_PREFIX}${id}/`);
      cleared.push(id);
    }
    await this.jobRows.expire(cleared);
    // files in no export's folder belong to no running export
    for (const key of loose) await this.storage.delete(key);
    return left;
  }

  private async ownFiles(principal: Principal, files: { key: string; size: number }[]): Promise<{ key: string; size: number }[]> {
    const jobs = await this.repository.jobs([...new Set(files.map((file) => jobIdOf(file.key)).filter((id) => id !== undefined))]);
    return files.filter((file) => {
      const id = jobIdOf(file.key);
      return id !== undefined && jobs.get(id)?.owner === principal.name;
    });
  }
}
