import { plainToInstance } from 'class-transformer';
import { IsISO8601, IsInt, IsObject, IsOptional, IsString, IsUUID, Min, MinLength, validate, type ValidationError } from 'class-validator';
import type { Envelope } from '../contracts/envelope.js';
import type { MessageContract } from '../contracts/contract.js';

/** A message that can never be handled as it is: it goes to the dead-letter queue at once, never retried. */
export class MalformedMessageError extends Error {
  override readonly name = 'MalformedMessageError';
}

class EnvelopeDto {
  @IsUUID()
  id!: string;

  @IsString()
  @MinLength(1)
  type!: string;

  @IsInt()
  @Min(1)
  version!: number;

  @IsISO8601()
  occurredAt!: string;

  @IsString()
  @MinLength(1)
  correlationId!: string;

  @IsOptional()
  @IsString()
  causationId!: string | null;

  @IsObject()
  payload!: Record<string, unknown>;
}

export function describeValidationErrors(errors: ValidationError[], prefix = ''): string {
  return errors
    .flatMap((error) => {
      const path = `${prefix}${error.property}`;
      const own = Object.values(error.constraints ?? {}).map((text) => `${path}: ${text}`);
      return [...own, describeValidationErrors(error.children ?? [], `${path}.`)].filter(Boolean);
    })
    .join('; ');
}

async function validated<T extends object>(cls: new () => T, plain: unknown, what: string): Promise<T> {
  const instance = plainToInstance(cls, plain);
  const errors = await validate(instance, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) throw new MalformedMessageError(`invalid ${what}: ${describeValidationErrors(errors)}`);
  return instance;
}

export async function parseEnvelope(content: Buffer): Promise<Envelope<Record<string, unknown>>> {
  let plain: unknown;
  try {
    plain = JSON.parse(content.toString('utf8'));
  } catch (error) {
    throw new MalformedMessageError(`body is not JSON: ${(error as Error).message}`);
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    throw new MalformedMessageError('body is not a JSON object');
  }
  const envelope = await validated(EnvelopeDto, plain, 'envelope');
  return { ...envelope, causationId: envelope.causationId ?? null };
}

export async function validatePayload<T extends object>(
  contract: MessageContract<T>,
  envelope: Envelope<Record<string, unknown>>,
): Promise<T> {
  if (envelope.version > contract.version) {
    throw new MalformedMessageError(`${envelope.type} version ${envelope.version} is newer than the supported ${contract.version}`);
  }
  return validated(contract.payload, envelope.payload, `${envelope.type} payload`);
}
