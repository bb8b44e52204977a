import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { findProcessor, processorProblems, PUBLIC_PROCESSORS } from '#shared';
import type { Principal } from '../auth/principal.js';
import { validated } from '../common/request-validation.js';
import { JobNotFoundError } from '../job-model/job.errors.js';
import { CreateJobDto } from '../jobs/dto/create-job.dto.js';
import { JobsService } from '../jobs/jobs.service.js';
import { jobGroupStatus, processorVersionView, processorViews, type JobGroupStatus, type ProcessorVersionMetadata, type ProcessorView } from './ccg-views.js';
import {
  BoundaryNotFoundError,
  BoundarySearchError,
  CcgJobNotFoundError,
  CcgSubmissionError,
  PackageNotFoundError,
  ProcessorNotFoundError,
} from './packages.errors.js';
import { PackagesRepository, type BoundarySummaryRow } from './packages.repository.js';

export interface BoundaryView extends BoundarySummaryRow {
  admin_level: string;
  geometry: Record<string, unknown>;
  envelope: Record<string, unknown>;
}

export interface PackageSummaryView {
  boundary_name: string;
  uri: string;
}

export interface PackageView extends PackageSummaryView {
  boundary: BoundaryView;
  processors: ProcessorView[];
  datapackage: Record<string, unknown>;
}

/** A search: by name, or by a point (both numbers). */
export interface BoundarySearch {
  name?: string;
  latitude?: string;
  longitude?: string;
}

/** Where a package's files are: its folder in storage (`GET /files` lists them). */
const packageUri = (boundary: string): string => `storage://packages/${boundary}/`;

const coordinate = (value: string | undefined, range: number): number | undefined => {
  if (value === undefined || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) && Math.abs(number) <= range ? number : undefined;
};

/**
 * Data packages as the gateway serves them: the boundaries, the processors (from the shared manifest, the same list
 * export-service runs), the packages made so far, and package jobs (`package.build`) in irv-autopkg's shapes.
 */
@Injectable()
export class PackagesService {
  constructor(
    @Inject(PackagesRepository) private readonly packages: PackagesRepository,
    @Inject(JobsService) private readonly jobs: JobsService,
  ) {}

  boundaries(): Promise<BoundarySummaryRow[]> {
    return this.packages.boundaries();
  }

  /** By name (case-insensitive, partial) or by point (the boundaries containing it); 400 when neither or both. */
  search(query: BoundarySearch): Promise<BoundarySummaryRow[]> {
    const hasName = typeof query.name === 'string' && query.name.trim() !== '';
    const hasPoint = query.latitude !== undefined || query.longitude !== undefined;
    if (hasName === hasPoint) throw new BoundarySearchError(['Search must include name or valid latitude, longitude coordinates (not both)']);
    if (hasName) return this.packages.searchByName(query.name!.trim());
    const latitude = coordinate(query.latitude, 90);
    const longitude = coordinate(query.longitude, 180);
    if (latitude === undefined || longitude === undefined) {
      throw new BoundarySearchError(['Search must include name or valid latitude, longitude coordinates (latitude -90 to 90, longitude -180 to 180)']);
    }
    return this.packages.searchByPoint(latitude, longitude);
  }

  async boundary(name: string): Promise<BoundaryView> {
    const row = await this.packages.boundary(name);
    if (!row) throw new BoundaryNotFoundError(name);
    return {
      name: row.name,
      name_long: row.name_long,
      admin_level: row.admin_level,
      geometry: JSON.parse(row.geometry) as Record<string, unknown>,
      envelope: JSON.parse(row.envelope) as Record<string, unknown>,
    };
  }

  processors(): ProcessorView[] {
    return processorViews({ status: '', uri: '' });
  }

  processor(name: string): ProcessorView {
    const found = processorViews().find((processor) => processor.name === name);
    if (!found) throw new ProcessorNotFoundError(`no such processor: ${name}`);
    return found;
  }

  processorVersion(name: string, version: string): ProcessorVersionMetadata {
    const manifest = findProcessor(`${name}.${version}`);
    if (!manifest) throw new ProcessorNotFoundError(`no such processor version: ${name}.${version}`);
    return processorVersionView(manifest);
  }

  async packagesList(): Promise<PackageSummaryView[]> {
    return (await this.packages.packaged()).map((boundary) => ({ boundary_name: boundary, uri: packageUri(boundary) }));
  }

  /** A package: its boundary, the processor versions present (with their files' folder), and its datapackage.json. */
  async package(boundary: string): Promise<PackageView> {
    const outputs = (await this.packages.outputs(boundary)).filter((output) => PUBLIC_PROCESSORS.some((p) => p.name === output.processor));
    if (outputs.length === 0) throw new PackageNotFoundError(boundary);
    const names = [...new Set(outputs.map((output) => output.processor))];
    const processors = names.map((name) => ({
      name,
      versions: outputs
        .filter((output) => output.processor === name)
        .flatMap((output) => {
          const manifest = findProcessor(`${output.processor}.${output.version}`);
          return manifest ? [processorVersionView(manifest, { status: 'complete', uri: `${packageUri(boundary)}${output.processor}/${output.version}/` })] : [];
        }),
    }));
    const [view, datapackage] = await Promise.all([this.boundary(boundary), this.packages.datapackage(boundary)]);
    return { boundary_name: boundary, uri: packageUri(boundary), boundary: view, processors, datapackage: datapackage ?? {} };
  }

  /**
   * `POST /v1/jobs`: a `package.build` job. Each submission is a job of its own, as each was in irv-autopkg (a fresh
   * idempotency key each time): eight identical submissions are eight jobs, and the database's claims decide that
   * each processor runs once while the others report SKIPPED.
   */
  async submitCcg(principal: Principal, boundaryName: string, processors: string[]): Promise<{ job_id: string }> {
    const problems = processorProblems(processors).filter((problem) => problem.startsWith('unknown'));
    if (problems.length > 0) throw new CcgSubmissionError(processors.filter((key) => !findProcessor(key)).map((key) => `Invalid processor.version: ${key}`));
    if (!(await this.packages.boundary(boundaryName))) throw new CcgSubmissionError([`Requested boundary ${boundaryName} could not be found`]);
    const request = validated(
      CreateJobDto,
      { type: 'package.build', input: { boundary: boundaryName, processors }, idempotencyKey: `ccg-${randomUUID()}` },
      '',
    );
    const [submitted] = await this.jobs.submit(principal, [request], '');
    return { job_id: submitted.job.id };
  }

  /** `GET /v1/jobs/{job_id}`: the package job's processors, each with its state, progress and result. */
  async ccgStatus(principal: Principal, id: string): Promise<JobGroupStatus> {
    const job = await this.jobs.visible(principal, id).catch((error: unknown) => {
      throw error instanceof JobNotFoundError ? new CcgJobNotFoundError(id) : error;
    });
    if (job.type !== 'package.build') throw new CcgJobNotFoundError(id);
    const processors = Array.isArray(job.input.processors) ? (job.input.processors as string[]) : [];
    return jobGroupStatus({ id: job.id, state: job.state, processors }, await this.packages.parts(job.id));
  }
}
