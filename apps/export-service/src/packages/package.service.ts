import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  BOUNDARY_PROCESSOR,
  fanOut,
  JobFailure,
  LOGGER,
  processorKey,
  STORAGE,
  type Envelope,
  type Storage,
  type JobContext,
  type JobOutcome,
  type JobResult,
  type PackageBuildV1,
  type PackageProcessV1,
  type PackageProvenanceV1,
  type ProcessorManifest,
} from '#shared';
import { withScratchDir } from '#shared/pipeline/scratch-dir';
import { EXPORT_CONFIG, type ExportConfig } from '../config/export.config.js';
import { BoundariesRepository, type Boundary } from './boundaries/boundaries.repository.js';
import { outputPrefix, packagePrefix, uploadOutput } from './outputs/output-files.js';
import { OutputsRepository, type OutputFile, type OutputKey } from './outputs/outputs.repository.js';
import { shouldReport } from './progress-throttle.js';
import { PACKAGE_PROCESSORS, ProcessorError, type PackageProcessor } from './processors/processor.js';
import { buildDataPackage, profileErrors, provenanceLog } from './provenance/datapackage.js';
import { DatapackagesRepository } from './provenance/datapackages.repository.js';

/** What one processor's part of a package came to: made now, or skipped because it exists or is being made. */
export interface ProcessorPartResult extends JobResult {
  processor: string;
  version: string;
  boundary: string;
  skipped?: 'exists' | 'running';
  files: OutputFile[];
}

/** A part's files are made at most this often: a slow processor still proves it is alive at this rate. */
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Data packages as a saga. `package.build` for one boundary runs the boundary setup (the internal `boundary`
 * processor) and fans out one `package.process` per processor, merged by `package.provenance` whatever became of
 * them; for many boundaries it fans out one nested `package.build` each. Every output is claimed in the database
 * first (OutputsRepository.claim), so each processor version runs once per boundary however many jobs ask for it.
 */
@Injectable()
export class PackageService {
  constructor(
    @Inject(BoundariesRepository) private readonly boundaries: BoundariesRepository,
    @Inject(OutputsRepository) private readonly outputs: OutputsRepository,
    @Inject(DatapackagesRepository) private readonly datapackages: DatapackagesRepository,
    @Inject(PACKAGE_PROCESSORS) private readonly processors: Map<string, PackageProcessor>,
    @Inject(STORAGE) private readonly storage: Storage,
    @Inject(EXPORT_CONFIG) private readonly config: ExportConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async build({ payload }: Envelope<PackageBuildV1>, job: JobContext): Promise<JobOutcome> {
    const { processors } = payload;
    if (payload.boundaries !== undefined) {
      if (payload.boundary !== undefined) throw failure('input', 'give boundary or boundaries, not both');
      const names = payload.boundaries === 'all' ? await this.boundaries.names() : payload.boundaries;
      if (names.length === 0) throw failure('input', 'there are no boundaries: load some first (package.boundaries.load)');
      const missing = payload.boundaries === 'all' ? [] : await this.boundaries.missing(names);
      if (missing.length > 0) throw failure('input', `no boundary ${missing.join(', ')}`);
      // each boundary a nested saga; how many run at once is export_q's prefetch per service copy (see the README)
      return fanOut({ subtasks: names.map((boundary) => ({ type: 'package.build', input: { boundary, processors } })) });
    }
    if (payload.boundary === undefined) throw failure('input', 'give boundary or boundaries');
    const boundary = await this.boundary(payload.boundary);
    await job.progress(0, 1, 'boundary setup');
    const setup = await this.runPart(boundary, BOUNDARY_PROCESSOR, job, payload.jobId);
    await job.progress(1, 1, `boundary setup ${setup.skipped ? `skipped: ${setup.skipped}` : 'done'}; processors running`);
    return fanOut({
      subtasks: processors.map((processor) => ({ type: 'package.process', input: { boundary: boundary.name, processor } })),
      merge: { type: 'package.provenance', input: { boundary: boundary.name, processors }, always: true },
    });
  }

  async process({ payload }: Envelope<PackageProcessV1>, job: JobContext): Promise<ProcessorPartResult> {
    const processor = this.processors.get(payload.processor);
    if (!processor || processor.manifest.internal) throw failure('input', `unknown processor ${payload.processor}`);
    return this.runPart(await this.boundary(payload.boundary), processor.manifest, job, payload.jobId);
  }

  /**
   * datapackage.json (validated against the Data Package v2 profile) and the provenance log of every output the
   * boundary has now, written under `packages/<boundary>/`. Runs whatever became of the processors: the outputs
   * made are listed, the failed processors named.
   */
  async provenance({ payload }: Envelope<PackageProvenanceV1>, job: JobContext): Promise<JobResult> {
    const boundary = await this.boundary(payload.boundary);
    await job.progress(0, 1, 'writing datapackage.json');
    return this.datapackages.underLock(boundary.name, async (manager) => {
      const outputs = await this.outputs.succeeded(boundary.name);
      const datapackage = buildDataPackage(boundary, outputs, new Date());
      const problems = profileErrors(datapackage);
      if (problems.length > 0) throw failure('provenance', `datapackage.json does not follow the Data Package v2 profile: ${problems.join('; ')}`);
      const log = provenanceLog(outputs);
      const folder = packagePrefix(boundary.name);
      await this.storage.write(`${folder}datapackage.json`, Readable.from([JSON.stringify(datapackage, null, 2)]), { contentType: 'application/json' });
      await this.storage.write(`${folder}provenance.json`, Readable.from([JSON.stringify(log, null, 2)]), { contentType: 'application/json' });
      await this.datapackages.save(manager, boundary.name, datapackage, log);
      const failed = (payload.saga?.errors ?? []).map((error) => error.message);
      return {
        file: `${folder}datapackage.json`,
        provenance: `${folder}provenance.json`,
        boundary: boundary.name,
        processors: [...new Set(outputs.map((output) => processorKey({ name: output.processor, version: output.version })))],
        resources: datapackage.resources.length,
        ...(failed.length > 0 ? { failed } : {}),
      };
    });
  }

  private async boundary(name: string): Promise<Boundary> {
    const boundary = await this.boundaries.find(name);
    if (!boundary) throw failure('input', `no boundary ${name}`);
    return boundary;
  }

  /**
   * One processor's output for the boundary: claimed, made in a scratch folder, uploaded with sizes and hashes, then
   * marked succeeded. A failure removes what was uploaded and marks the output failed (the next request rebuilds
   * it); a cancel does the same and rethrows the abort.
   */
  private async runPart(boundary: Boundary, manifest: ProcessorManifest, job: JobContext, jobId: string): Promise<ProcessorPartResult> {
    const key: OutputKey = { boundary: boundary.name, processor: manifest.name, version: manifest.version };
    const part = { processor: processorKey(manifest), version: manifest.version, boundary: boundary.name };
    const claim = await this.outputs.claim(key, jobId, this.config.GEOJOBS_PACKAGES_STALE_SECONDS);
    if (claim.outcome === 'exists' && claim.row.job_id === jobId) return { ...part, files: claim.row.files }; // a redelivered command that had finished
    if (claim.outcome !== 'claimed') {
      await job.progress(100, 100, `skipped: ${claim.outcome}`);
      return { ...part, skipped: claim.outcome, files: claim.outcome === 'exists' ? claim.row.files : [] };
    }
    const processor = this.processors.get(part.processor)!;
    let lastBeat = Date.now();
    let lastReport: number | undefined;
    const progress = async (percent: number, step: string) => {
      if (shouldReport(lastReport, Date.now(), percent)) {
        lastReport = Date.now();
        await job.progress(Math.max(0, Math.min(100, Math.round(percent))), 100, step);
      }
      if (Date.now() - lastBeat > HEARTBEAT_EVERY_MS) {
        lastBeat = Date.now();
        await this.outputs.heartbeat(key, jobId);
      }
    };
    try {
      await this.storage.deletePrefix(outputPrefix(key)); // what a failed or abandoned run left
      const files = await withScratchDir(async (scratch) => {
        await progress(0, 'starting');
        const output = await processor.process({ boundary, scratch, progress, signal: job.signal });
        job.signal.throwIfAborted();
        await progress(99, 'storing the outputs');
        return { source: output.source, files: await uploadOutput(this.storage, key, scratch, output.files, job.signal) };
      }, this.config.GEOJOBS_EXPORT_SCRATCH_DIR);
      job.signal.throwIfAborted();
      if (!(await this.outputs.finish(key, jobId, { state: 'succeeded', ...files }))) {
        throw new ProcessorError('the output was taken over by another run while this one was making it (its heartbeat had stopped)');
      }
      return { ...part, files: files.files };
    } catch (error) {
      const message = job.signal.aborted ? 'cancelled' : (error as Error).message;
      await this.storage
        .deletePrefix(outputPrefix(key))
        .catch((cleanup: unknown) => this.logger.warn({ err: cleanup, key }, 'could not remove a failed output'));
      await this.outputs.finish(key, jobId, { state: 'failed', message });
      job.signal.throwIfAborted();
      this.logger.info({ key, err: error }, 'processor failed');
      throw new JobFailure({ type: 'processor', class: (error as Error).name ?? 'Error', message: `${part.processor}: ${message}` });
    }
  }
}

const failure = (type: string, message: string) => new JobFailure({ type, class: 'PackageError', message });
