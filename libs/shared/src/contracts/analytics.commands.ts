import { plainToInstance } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  Min,
  MinLength,
  Validate,
  ValidatorConstraint,
  validateSync,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import type { ContractsOf } from './contract.js';

export const ANALYTICS_DESTINATIONS = ['mixpanel', 'ga4'] as const;
export type AnalyticsDestination = (typeof ANALYTICS_DESTINATIONS)[number];

/** One portal event, as the gateway accepted it. */
export class AnalyticsEventV1 {
  /** Unique per event; Mixpanel's `$insert_id`, so a redelivered event is counted once. */
  @IsUUID()
  insertId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(255)
  event!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(255)
  distinctId!: string;

  /** When it happened, epoch milliseconds. */
  @IsInt()
  @Min(0)
  time!: number;

  @IsObject()
  properties!: Record<string, unknown>;

  /** Mixpanel project token of this event (HDX sends one per event); analytics-service falls back to MIXPANEL_TOKEN. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  token?: string;

  /** Where the event goes; each destination receives it once. */
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(ANALYTICS_DESTINATIONS, { each: true })
  destinations!: AnalyticsDestination[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isText = (value: unknown): value is string => typeof value === 'string' && value.length >= 1 && value.length <= 255;
const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);
const absent = (value: unknown): boolean => value === undefined || value === null;

/**
 * Whether `value` passes AnalyticsEventV1's decorators, checked by hand: through class-transformer and
 * class-validator an event costs ≈ 70 µs, most of the work of a command of 1,000 (as the envelope, it is
 * checked on every message). Never looser than the decorators (analytics.commands.spec.ts holds the two to the
 * same answers); when it says no, the decorators name the problem.
 */
export function isAnalyticsEvent(value: unknown): value is AnalyticsEventV1 {
  if (!isObject(value)) return false;
  const event = value as Record<string, unknown>;
  return (
    typeof event.insertId === 'string' &&
    UUID.test(event.insertId) &&
    isText(event.event) &&
    isText(event.distinctId) &&
    Number.isInteger(event.time) &&
    (event.time as number) >= 0 &&
    isObject(event.properties) &&
    (absent(event.token) || isText(event.token)) &&
    Array.isArray(event.destinations) &&
    event.destinations.length >= 1 &&
    event.destinations.every((destination) => (ANALYTICS_DESTINATIONS as readonly unknown[]).includes(destination))
  );
}

/** What is wrong with the first event that is not an AnalyticsEventV1, in class-validator's words. */
function firstEventProblem(events: unknown[]): string {
  const index = events.findIndex((event) => !isAnalyticsEvent(event));
  const event = events[index];
  if (!isObject(event)) return `events.${index} must be an object`;
  const errors = validateSync(plainToInstance(AnalyticsEventV1, event), { whitelist: true, forbidUnknownValues: true });
  const problems = errors.flatMap((error) => Object.values(error.constraints ?? {}).map((text) => `events.${index}.${error.property}: ${text}`));
  return problems.join('; ') || `events.${index} is not a valid event`;
}

@ValidatorConstraint({ name: 'analyticsEvents' })
class AnalyticsEventsConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return Array.isArray(value) && value.every(isAnalyticsEvent);
  }

  defaultMessage(args: ValidationArguments): string {
    return Array.isArray(args.value) ? firstEventProblem(args.value) : 'events must be an array';
  }
}

/** Deliver events to their destinations. Sent by the gateway for `POST /analytics/events` and HDX's send-analytics. */
export class AnalyticsTrackV1 {
  /** Set when the events belong to a job (a followup, a `POST /jobs` of type analytics.track). */
  @IsOptional()
  @IsUUID()
  jobId?: string;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(2_000)
  @Validate(AnalyticsEventsConstraint)
  events!: AnalyticsEventV1[];
}

export interface AnalyticsCommands {
  'analytics.track': AnalyticsTrackV1;
}

export const ANALYTICS_COMMAND_CONTRACTS: ContractsOf<AnalyticsCommands> = {
  'analytics.track': { version: 1, payload: AnalyticsTrackV1 },
};
