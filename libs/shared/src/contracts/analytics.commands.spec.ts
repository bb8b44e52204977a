import { randomUUID } from 'node:crypto';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { MalformedMessageError, validatePayload } from '../broker/message-validation.js';
import type { Envelope } from './envelope.js';
import { ANALYTICS_COMMAND_CONTRACTS, AnalyticsEventV1, isAnalyticsEvent } from './analytics.commands.js';

const valid = {
  insertId: randomUUID(),
  event: 'dataset view',
  distinctId: 'user-1',
  time: 1_700_000_000_000,
  properties: { a: 1 },
  destinations: ['mixpanel'],
};

const samples: unknown[] = [
  valid,
  { ...valid, token: 'project', destinations: ['mixpanel', 'ga4'], extra: true },
  { ...valid, token: null },
  { ...valid, insertId: 'not-a-uuid' },
  { ...valid, insertId: undefined },
  { ...valid, event: '' },
  { ...valid, event: 'x'.repeat(255) },
  { ...valid, event: 'x'.repeat(256) },
  { ...valid, distinctId: 7 },
  { ...valid, time: -1 },
  { ...valid, time: 1.5 },
  { ...valid, time: undefined },
  { ...valid, properties: [] },
  { ...valid, properties: null },
  { ...valid, token: '' },
  { ...valid, destinations: [] },
  { ...valid, destinations: ['amplitude'] },
  { ...valid, destinations: undefined },
  null,
  [],
];

describe('isAnalyticsEvent', () => {
  it.each(samples.map((sample) => [JSON.stringify(sample), sample]))('answers as the decorators do: %s', (_name, sample) => {
    const decorators =
      isObjectSample(sample) && validateSync(plainToInstance(AnalyticsEventV1, sample), { whitelist: true, forbidUnknownValues: true }).length === 0;
    expect(isAnalyticsEvent(sample)).toBe(decorators);
  });

  it('lets validatePayload name the field of the first bad event', () => {
    const envelope = (events: unknown[]) => ({ type: 'analytics.track', version: 1, payload: { events } }) as unknown as Envelope<Record<string, unknown>>;
    const contract = ANALYTICS_COMMAND_CONTRACTS['analytics.track'];
    expect(validatePayload(contract, envelope([valid, valid])).events).toHaveLength(2);
    expect(() => validatePayload(contract, envelope([valid, { ...valid, insertId: 'x' }]))).toThrow(MalformedMessageError);
    expect(() => validatePayload(contract, envelope([valid, { ...valid, insertId: 'x' }]))).toThrow(/events\.1\.insertId: insertId must be a UUID/);
    expect(() => validatePayload(contract, envelope([valid, 'x']))).toThrow(/events\.1 must be an object/);
  });
});

function isObjectSample(sample: unknown): boolean {
  return typeof sample === 'object' && sample !== null && !Array.isArray(sample);
}
