import { OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsObject, IsOptional, Matches, Max, Min, ValidateNested } from 'class-validator';
import { validated } from '../common/request-validation.js';
import { UnknownJobTypeError } from './job.errors.js';
import {
  AnalyticsTrackV1,
  ExportConvertV1,
  ExportDatasetMergeV1,
  ExportDatasetV1,
  ExportLayersV1,
  ExportResourceV1,
  GeoLayerDeleteV1,
  GeoPreviewMergeV1,
  GeoPreviewV1,
  MAX_FANOUT_SUBTASKS,
  NoopCommandV1,
  PackageBoundariesLoadV1,
  PackageBuildV1,
  PackageProcessV1,
  PackageProvenanceV1,
  SERVICES,
  type Commands,
  type ServiceName,
} from '#shared';

/** Subtasks one saga may have, at all its levels together. */
export const MAX_SUBTASKS = MAX_FANOUT_SUBTASKS;

/** `noop`: runs on the named service, sleeps, then fails with the given message or succeeds. */
export class NoopJobInput extends OmitType(NoopCommandV1, ['jobId'] as const) {
  @IsIn(SERVICES)
  service!: ServiceName;

  /** Fan out: this many subtasks (a saga), each a noop of `child` (default: on the same service). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_SUBTASKS)
  children?: number;

  /** Of the subtasks, how many fail (the first ones), each with the message `subtask <n> failed`. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_SUBTASKS)
  failChildren?: number;

  /** The input of each subtask: e.g. a long sleep (a subtask that never answers in time), or children (nesting). */
  @IsOptional()
  @ValidateNested()
  @Type(() => NoopJobInput)
  child?: NoopJobInput;

  /** The merge step of a saga: a noop of this input, run once every subtask succeeded. */
  @IsOptional()
  @ValidateNested()
  @Type(() => NoopJobInput)
  merge?: NoopJobInput;

  /** The result of the job whose followup submitted this one. */
  @IsOptional()
  @IsObject()
  previous?: Record<string, unknown>;
}

export class GeoPreviewJobInput extends OmitType(GeoPreviewV1, ['jobId', 'layer'] as const) {
  /**
   * http(s) only: a `storage://` URI could name any file in storage (another owner's), so only the subtasks geojobs
   * declares itself (`geo.preview.layer`) read from storage.
   */
  @Matches(/^https?:\/\//i, { message: 'must be an http(s) URL' })
  declare url: string;
}
/** One layer of a multi-layer upload, declared by the geopreview that opened it (its `url` is then a storage URI). */
export class GeoPreviewLayerJobInput extends OmitType(GeoPreviewV1, ['jobId', 'notify'] as const) {}
export class GeoPreviewMergeJobInput extends OmitType(GeoPreviewMergeV1, ['jobId'] as const) {}
export class GeoLayerDeleteJobInput extends OmitType(GeoLayerDeleteV1, ['jobId'] as const) {}
export class AnalyticsTrackJobInput extends OmitType(AnalyticsTrackV1, ['jobId'] as const) {}
export class ExportLayersJobInput extends OmitType(ExportLayersV1, ['jobId'] as const) {}
export class ExportDatasetJobInput extends OmitType(ExportDatasetV1, ['jobId'] as const) {}
export class ExportResourceJobInput extends OmitType(ExportResourceV1, ['jobId'] as const) {}
export class ExportDatasetMergeJobInput extends OmitType(ExportDatasetMergeV1, ['jobId'] as const) {}
export class ExportConvertJobInput extends OmitType(ExportConvertV1, ['jobId'] as const) {}
export class PackageBuildJobInput extends OmitType(PackageBuildV1, ['jobId'] as const) {}
/** One processor of a package, declared by the package.build that set its boundary up. */
export class PackageProcessJobInput extends OmitType(PackageProcessV1, ['jobId'] as const) {}
/** A package's merge step: datapackage.json and the provenance log. */
export class PackageProvenanceJobInput extends OmitType(PackageProvenanceV1, ['jobId'] as const) {}
export class PackageBoundariesLoadJobInput extends OmitType(PackageBoundariesLoadV1, ['jobId'] as const) {}

type CommandOf = { [K in keyof Commands]: { key: K; payload: Commands[K] } }[keyof Commands];

/** A subtask a saga parent declares: any job type, with its input. */
export interface Subtask {
  type: string;
  input: Record<string, unknown>;
}

export interface JobType<I extends object> {
  input: new () => I;
  /** The command that starts a job of this type on its service. */
  command(jobId: string, input: I): CommandOf;
  /** The subtasks a job of this type fans out to, if any: it is then a saga, merged by the coordinator. */
  subtasks?(input: I): Subtask[];
  /** A saga's merge step as a job of its own; without one, the coordinator writes the merged result itself. */
  merge?(input: I): Subtask | null;
}

const define = <I extends object>(type: JobType<I>): JobType<object> => type;

/**
 * A type whose input is the payload of the command `key` but for the job id: the command is the input with the job
 * id. The input class must hold every field that payload requires besides `jobId` (checked where it is used), which
 * is what TypeScript cannot see inside this generic body.
 */
const relayed = <K extends keyof Commands, I extends Omit<Commands[K], 'jobId'>>(key: K, input: new () => I): JobType<object> =>
  define<I>({ input, command: (jobId, fields) => ({ key, payload: { jobId, ...fields } }) as CommandOf });

/**
 * The job types the gateway accepts, with the class that validates their input and the command each sends.
 * A type is listed here once a service runs it.
 */
export const JOB_TYPES: Record<string, JobType<object>> = {
  noop: define<NoopJobInput>({
    input: NoopJobInput,
    command: (jobId, { service, sleepMs, fail, fanout }) => ({ key: `${service}.noop`, payload: { jobId, sleepMs, fail, fanout } }),
    subtasks: ({ service, children = 0, failChildren = 0, child }) =>
      Array.from({ length: children }, (_, index) => ({
        type: 'noop',
        input: {
          ...(child ? (JSON.parse(JSON.stringify(child)) as Record<string, unknown>) : { service }),
          ...(index < failChildren ? { fail: `subtask ${index + 1} failed` } : {}),
        },
      })),
    merge: ({ merge }) => (merge ? { type: 'noop', input: JSON.parse(JSON.stringify(merge)) as Record<string, unknown> } : null),
  }),
  'geo.preview': relayed('geo.preview', GeoPreviewJobInput),
  'geo.preview.layer': relayed('geo.preview', GeoPreviewLayerJobInput),
  'geo.preview.merge': relayed('geo.preview.merge', GeoPreviewMergeJobInput),
  'geo.layer.delete': relayed('geo.layer.delete', GeoLayerDeleteJobInput),
  'analytics.track': relayed('analytics.track', AnalyticsTrackJobInput),
  'export.layers': relayed('export.layers', ExportLayersJobInput),
  'export.dataset': relayed('export.dataset', ExportDatasetJobInput),
  'export.resource': relayed('export.resource', ExportResourceJobInput),
  'export.dataset.merge': relayed('export.dataset.merge', ExportDatasetMergeJobInput),
  'export.convert': relayed('export.convert', ExportConvertJobInput),
  'package.build': relayed('package.build', PackageBuildJobInput),
  'package.process': relayed('package.process', PackageProcessJobInput),
  'package.provenance': relayed('package.provenance', PackageProvenanceJobInput),
  'package.boundaries.load': relayed('package.boundaries.load', PackageBoundariesLoadJobInput),
};

/**
 * Types the gateway creates itself (DELETE /layers/:id, HDX's delete-one-layer) or that services declare when they
 * fan out (a geopreview's layers and merge, a dataset export's resources and merge), not taken by POST /jobs.
 */
export const INTERNAL_JOB_TYPES: ReadonlySet<string> = new Set([
  'geo.layer.delete',
  'geo.preview.layer',
  'geo.preview.merge',
  'export.resource',
  'export.dataset.merge',
  'package.process',
  'package.provenance',
]);

/** The types POST /jobs takes. */
export const JOB_TYPE_NAMES = Object.keys(JOB_TYPES).filter((name) => !INTERNAL_JOB_TYPES.has(name));

/**
 * A job type by name, with the input validated as that type takes it (unknown fields stripped); an invalid-request
 * error naming the place (`path`) otherwise. An input the gateway built itself as an instance of the type's class is
 * taken as it is.
 */
export function typedInput(typeName: string, input: unknown, path: string): { type: JobType<object>; input: object } {
  const type = JOB_TYPES[typeName];
  if (!type) throw new UnknownJobTypeError([`${path}type must be one of: ${JOB_TYPE_NAMES.join(', ')}`]);
  return { type, input: input instanceof type.input ? input : validated(type.input, input, `${path}input`) };
}
