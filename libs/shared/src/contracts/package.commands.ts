import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  Validate,
  ValidateIf,
  ValidateNested,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { processorProblems } from '../packages/processors.manifest.js';
import type { ContractsOf } from './contract.js';
import { SagaSummaryV1 } from './geo.commands.js';
import { MAX_FANOUT_SUBTASKS } from './job.events.js';

/** A boundary's name: what paths in storage and the API are made of (`packages/<boundary>/…`). */
export const BOUNDARY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const BOUNDARY_NAME_MESSAGE = 'a boundary name is 1 to 100 letters, digits or ._- starting with a letter or digit';

/** Where boundaries files are taken from in storage: the operator's drop folder, so a job cannot read anyone's file. */
export const BOUNDARIES_STORAGE_PREFIX = 'boundaries/';

/** Processors one package may name (every one there is, in practice). */
export const MAX_PACKAGE_PROCESSORS = 100;

@ValidatorConstraint({ name: 'knownProcessors' })
export class KnownProcessors implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return Array.isArray(value) && value.every((item) => typeof item === 'string') && processorProblems(value).length === 0;
  }

  defaultMessage(args: ValidationArguments): string {
    const value = args.value as unknown;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return 'processors must be an array of <name>.<version>';
    return processorProblems(value).join('; ');
  }
}

/** `boundaries`: a list of names, or "all" (every boundary loaded when the batch starts). */
@ValidatorConstraint({ name: 'boundarySelection' })
export class BoundarySelection implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (value === 'all') return true;
    return (
      Array.isArray(value) &&
      value.length > 0 &&
      value.length <= MAX_FANOUT_SUBTASKS &&
      new Set(value).size === value.length &&
      value.every((name) => typeof name === 'string' && BOUNDARY_NAME_PATTERN.test(name))
    );
  }

  defaultMessage(): string {
    return `boundaries must be "all" or 1 to ${MAX_FANOUT_SUBTASKS} distinct boundary names (${BOUNDARY_NAME_MESSAGE})`;
  }
}

@ValidatorConstraint({ name: 'notBesideBoundary' })
export class NotBesideBoundary implements ValidatorConstraintInterface {
  validate(_value: unknown, args: ValidationArguments): boolean {
    return (args.object as { boundary?: unknown }).boundary === undefined;
  }

  defaultMessage(): string {
    return 'give boundary or boundaries, not both';
  }
}

/**
 * `package.build`: a data package for one boundary (`boundary`) — boundary setup, then every processor in parallel
 * (`package.process`), then provenance (`package.provenance`) — or a batch over many (`boundaries`), one nested
 * `package.build` per boundary. Exactly one of the two.
 */
export class PackageBuildV1 {
  @IsUUID()
  jobId!: string;

  /** Required unless `boundaries` is given. */
  @ValidateIf((input: PackageBuildV1) => input.boundaries === undefined)
  @Matches(BOUNDARY_NAME_PATTERN, { message: `boundary (or boundaries) is required: ${BOUNDARY_NAME_MESSAGE}` })
  boundary?: string;

  @IsOptional()
  @Validate(BoundarySelection)
  @Validate(NotBesideBoundary)
  boundaries?: string[] | 'all';

  /** `<name>.<version>` of each processor (GET /processors); no duplicates. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PACKAGE_PROCESSORS)
  @Validate(KnownProcessors)
  processors!: string[];
}

/** One processor of a package: its output for the boundary, unless one exists or is being made (then skipped). */
export class PackageProcessV1 {
  @IsUUID()
  jobId!: string;

  @Matches(BOUNDARY_NAME_PATTERN, { message: BOUNDARY_NAME_MESSAGE })
  boundary!: string;

  @IsString()
  @MaxLength(200)
  processor!: string;
}

/** The merge of a package: `datapackage.json` and the provenance log of the boundary's outputs. */
export class PackageProvenanceV1 {
  @IsUUID()
  jobId!: string;

  @Matches(BOUNDARY_NAME_PATTERN, { message: BOUNDARY_NAME_MESSAGE })
  boundary!: string;

  @IsArray()
  @ArrayMaxSize(MAX_PACKAGE_PROCESSORS)
  @IsString({ each: true })
  processors!: string[];

  /** Added by the saga coordinator: the processors that failed. */
  @IsOptional()
  @ValidateNested()
  @Type(() => SagaSummaryV1)
  saga?: SagaSummaryV1;
}

/** Which attribute of the boundaries file holds what. */
export class BoundaryFieldsV1 {
  /** The short name (e.g. an ISO code); made into a boundary name (lower case, `_` for anything else). */
  @IsString()
  @MaxLength(100)
  name!: string;

  /** The long name; the short name when absent. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  nameLong?: string;

  /** The admin level; `0` when absent. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  adminLevel?: string;
}

/** `package.boundaries.load`: boundaries from a GDAL-readable file in storage, under `boundaries/`; same names replaced. */
export class PackageBoundariesLoadV1 {
  @IsUUID()
  jobId!: string;

  /** The storage key of the file (`boundaries/<file>`), e.g. a GeoPackage, a GeoJSON, a zipped Shapefile (`/vsizip/` is used for .zip). */
  @Matches(/^boundaries\/[A-Za-z0-9._\-=+@]+(\/[A-Za-z0-9._\-=+@]+)*$/, { message: 'file must be a storage key under boundaries/' })
  file!: string;

  /** The layer to read; the first when absent. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  layer?: string;

  @ValidateNested()
  @Type(() => BoundaryFieldsV1)
  fields!: BoundaryFieldsV1;
}

export interface PackageCommands {
  'package.build': PackageBuildV1;
  'package.process': PackageProcessV1;
  'package.provenance': PackageProvenanceV1;
  'package.boundaries.load': PackageBoundariesLoadV1;
}

export const PACKAGE_COMMAND_CONTRACTS: ContractsOf<PackageCommands> = {
  'package.build': { version: 1, payload: PackageBuildV1 },
  'package.process': { version: 1, payload: PackageProcessV1 },
  'package.provenance': { version: 1, payload: PackageProvenanceV1 },
  'package.boundaries.load': { version: 1, payload: PackageBoundariesLoadV1 },
};
