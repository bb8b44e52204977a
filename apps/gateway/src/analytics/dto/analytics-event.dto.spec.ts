import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AnalyticsEventDto, checkedEvent } from './analytics-event.dto.js';

const valid = { event: 'dataset view', distinctId: 'user-1', properties: { a: 1 } };

const samples: unknown[] = [
  valid,
  { ...valid, time: 1_700_000_000_000, token: 't', destinations: ['mixpanel', 'ga4'], unknown: 'dropped' },
  { ...valid, time: null, token: null, destinations: null },
  { ...valid, event: '' },
  { ...valid, event: 'x'.repeat(256) },
  { ...valid, event: 'x'.repeat(255) },
  { ...valid, event: 5 },
  { ...valid, distinctId: undefined },
  { ...valid, properties: [] },
  { ...valid, properties: 'x' },
  { ...valid, properties: null },
  { ...valid, time: -1 },
  { ...valid, time: 1.5 },
  { ...valid, time: '1700000000000' },
  { ...valid, token: '' },
  { ...valid, destinations: [] },
  { ...valid, destinations: ['amplitude'] },
  { ...valid, destinations: 'mixpanel' },
  [],
  null,
  'event',
];

describe('checkedEvent', () => {
  it.each(samples.map((sample) => [JSON.stringify(sample), sample]))('never accepts what the DTO refuses: %s', (_name, sample) => {
    const dtoAccepts =
      typeof sample === 'object' &&
      sample !== null &&
      !Array.isArray(sample) &&
      validateSync(plainToInstance(AnalyticsEventDto, sample), { whitelist: true, forbidUnknownValues: true }).length === 0;
    const checked = checkedEvent(sample);
    if (!dtoAccepts) expect(checked).toBeUndefined();
    else expect(checked).toBeDefined();
  });

  it('keeps the known fields only', () => {
    expect({ ...checkedEvent({ ...valid, time: 5, extra: true }) }).toEqual({ ...valid, time: 5 });
  });
});
