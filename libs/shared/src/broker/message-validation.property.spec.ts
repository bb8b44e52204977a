import fc from 'fast-check';
import { COMMAND_CONTRACTS } from '../contracts/commands.js';
import type { MessageContract } from '../contracts/contract.js';
import { MalformedMessageError, parseEnvelope, validatePayload } from './message-validation.js';

/**
 * Properties of the broker's edge validation, over generated messages: whatever arrives, the validator answers (a
 * message, or a MalformedMessageError that dead-letters it with its reason) and never crashes; what is well formed
 * passes; and breaking any one required field is refused, naming that field.
 */

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

/** The validator's only answers: a value, or a MalformedMessageError. Anything else thrown is a crash. */
const answers = (check: () => unknown): boolean => {
  try {
    check();
    return true;
  } catch (error) {
    if (error instanceof MalformedMessageError) return true;
    throw error;
  }
};

const nonEmpty = fc.string({ minLength: 1, maxLength: 40 });
const timestamp = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true })
  .map((date) => date.toISOString());

const validEnvelope = fc.record(
  {
    id: fc.uuid(),
    type: nonEmpty,
    version: fc.integer({ min: 1, max: 1_000 }),
    occurredAt: timestamp,
    correlationId: nonEmpty,
    causationId: fc.option(nonEmpty, { nil: null }),
    payload: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })),
  },
  { requiredKeys: ['id', 'type', 'version', 'occurredAt', 'correlationId', 'payload'] },
);

const notA = (pattern: RegExp) => fc.string({ maxLength: 40 }).filter((text) => !pattern.test(text));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const notText = fc.oneof(fc.constant(''), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.object({ maxDepth: 1 }));

/** Each required field, with values it must not take (undefined: the field is left out). */
const BROKEN: Record<string, fc.Arbitrary<unknown>> = {
  id: fc.oneof(fc.constant(undefined), notA(UUID), notText),
  type: fc.oneof(fc.constant(undefined), notText),
  version: fc.oneof(
    fc.constant(undefined),
    fc.integer({ max: 0 }),
    fc.double({ noNaN: false }).filter((number) => !Number.isInteger(number)),
    fc.string(),
    fc.constant(null),
  ),
  occurredAt: fc.oneof(
    fc.constant(undefined),
    notA(ISO),
    fc.constantFrom('2024-13-01T00:00:00Z', '2024-02-30T25:61:00Z', '2024-00-00T00:00:00Z'), // the right shape, no such time
    fc.integer(),
    fc.constant(null),
  ),
  correlationId: fc.oneof(fc.constant(undefined), notText),
  causationId: fc.oneof(fc.constant(''), fc.integer(), fc.boolean(), fc.object({ maxDepth: 1 })),
  payload: fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
    fc.string(),
    fc.integer(),
    fc.boolean(),
  ),
};

describe('message validation, by property', () => {
  it('never crashes on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => answers(() => parseEnvelope(Buffer.from(raw)))));
  });

  it('never crashes on arbitrary JSON, nor on envelopes holding anything', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => answers(() => parseEnvelope(bytes(value)))));
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('id', 'type', 'version', 'occurredAt', 'correlationId', 'causationId', 'payload', 'other'),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        (value) => answers(() => parseEnvelope(bytes(value))),
      ),
    );
  });

  it("never crashes validating any payload against any command's contract", () => {
    const contracts: [string, MessageContract<object>][] = Object.entries(COMMAND_CONTRACTS);
    fc.assert(
      fc.property(
        fc.constantFrom(...contracts),
        fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 })),
        fc.integer({ min: 1, max: 3 }),
        ([type, contract], payload, version) =>
          answers(() =>
            validatePayload(contract, {
              id: '00000000-0000-4000-8000-000000000000',
              type,
              version,
              occurredAt: '',
              correlationId: 'c',
              causationId: null,
              payload,
            }),
          ),
      ),
    );
  });

  it('passes every well-formed envelope as it was sent', () => {
    fc.assert(
      fc.property(validEnvelope, (envelope) => {
        const parsed = parseEnvelope(bytes(envelope));
        expect(parsed).toEqual({ ...JSON.parse(JSON.stringify(envelope)), causationId: envelope.causationId ?? null }); // as JSON carries it (-0 is 0)
      }),
    );
  });

  it('refuses an envelope with any one required field broken, naming the field', () => {
    fc.assert(
      fc.property(
        validEnvelope,
        fc.constantFrom(...Object.keys(BROKEN)).chain((field) => fc.tuple(fc.constant(field), BROKEN[field])),
        (envelope, [field, value]) => {
          const broken: Record<string, unknown> = { ...envelope, [field]: value };
          if (value === undefined) delete broken[field];
          expect(() => parseEnvelope(bytes(broken))).toThrow(MalformedMessageError);
          expect(() => parseEnvelope(bytes(broken))).toThrow(new RegExp(`invalid envelope: .*\\b${field} must`));
        },
      ),
    );
  });

  it('passes a valid geo.noop payload and refuses it with any field broken, naming the field', () => {
    const noop = COMMAND_CONTRACTS['geo.noop'];
    const validPayload = fc.record(
      { jobId: fc.uuid(), sleepMs: fc.integer({ min: 0, max: 3_600_000 }), fail: fc.string({ maxLength: 2_000 }) },
      { requiredKeys: ['jobId'] },
    );
    const brokenField = fc.oneof(
      fc.tuple(fc.constant('jobId'), fc.oneof(fc.constant(undefined), notA(UUID), fc.integer())),
      fc.tuple(fc.constant('sleepMs'), fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 3_600_001 }), fc.string())),
      fc.tuple(fc.constant('fail'), fc.oneof(fc.string({ minLength: 2_001, maxLength: 2_100 }), fc.integer(), fc.boolean())),
    );
    const envelopeOf = (payload: Record<string, unknown>) =>
      parseEnvelope(
        bytes({ id: '00000000-0000-4000-8000-000000000000', type: 'geo.noop', version: 1, occurredAt: '2026-01-01T00:00:00Z', correlationId: 'c', payload }),
      );
    fc.assert(
      fc.property(validPayload, brokenField, (payload, [field, value]) => {
        expect(validatePayload(noop, envelopeOf(payload))).toMatchObject(payload);
        const broken: Record<string, unknown> = { ...payload, [field]: value };
        if (value === undefined) delete broken[field];
        expect(() => validatePayload(noop, envelopeOf(broken))).toThrow(new RegExp(`invalid geo.noop payload: .*\\b${field}: `));
      }),
    );
  });
});
