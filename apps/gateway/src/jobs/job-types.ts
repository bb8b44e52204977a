import { OmitType } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { AnalyticsTrackV1, GeoLayerDeleteV1, GeoPreviewV1, SERVICES, type Commands, type ServiceName } from '#shared';

/** `noop`: runs on the named service, sleeps, then fails with the given message or succeeds. */
export class NoopJobInput {
  @IsIn(SERVICES)
  service!: ServiceName;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  sleepMs?: number;

  @IsOptional()
  @IsString()
  @MaxLength(2_000)
  fail?: string;
}

export class GeoPreviewJobInput extends OmitType(GeoPreviewV1, ['jobId', 'layer'] as const) {}
export class GeoLayerDeleteJobInput extends OmitType(GeoLayerDeleteV1, ['jobId'] as const) {}
export class AnalyticsTrackJobInput extends OmitType(AnalyticsTrackV1, ['jobId'] as const) {}

type CommandOf = { [K in keyof Commands]: { key: K; payload: Commands[K] } }[keyof Commands];

interface JobType<I extends object> {
  input: new () => I;
  /** The command that starts a job of this type on its service. */
  command(jobId: string, input: I): CommandOf;
}

const define = <I extends object>(type: JobType<I>): JobType<object> => type as unknown as JobType<object>;

/**
 * The job types the gateway accepts, with the class that validates their input and the command each sends.
 * A type is listed here once a service runs it.
 */
export const JOB_TYPES: Record<string, JobType<object>> = {
  noop: define<NoopJobInput>({
    input: NoopJobInput,
    command: (jobId, { service, sleepMs, fail }) => ({ key: `${service}.noop`, payload: { jobId, sleepMs, fail } }),
  }),
  'geo.preview': define<GeoPreviewJobInput>({
    input: GeoPreviewJobInput,
    command: (jobId, input) => ({ key: 'geo.preview', payload: { jobId, ...input } }),
  }),
  'geo.layer.delete': define<GeoLayerDeleteJobInput>({
    input: GeoLayerDeleteJobInput,
    command: (jobId, input) => ({ key: 'geo.layer.delete', payload: { jobId, ...input } }),
  }),
  'analytics.track': define<AnalyticsTrackJobInput>({
    input: AnalyticsTrackJobInput,
    command: (jobId, input) => ({ key: 'analytics.track', payload: { jobId, ...input } }),
  }),
};

/** Types the gateway creates itself (DELETE /layers/:id, HDX's delete-one-layer), not taken by POST /jobs. */
export const INTERNAL_JOB_TYPES: ReadonlySet<string> = new Set(['geo.layer.delete']);

/** The types POST /jobs takes. */
export const JOB_TYPE_NAMES = Object.keys(JOB_TYPES).filter((name) => !INTERNAL_JOB_TYPES.has(name));
