import { isoFromOgrText, isoZone, ogrFieldPlan } from './ogr-values.js';

describe('OGR field plans', () => {
  it('types columns from OGR field types', () => {
    const kinds = ['integer', 'integer64', 'real', 'string', 'date', 'dateTime', 'time', 'binary', 'stringList'].map((type) => {
      const plan = ogrFieldPlan(type, type === 'string' ? 40 : 0);
      return [plan.type, plan.kind];
    });
    expect(kinds).toEqual([
      ['Integer', 'integer'],
      ['Integer64', 'integer'],
      ['Real', 'float'],
      ['String(40)', 'text'],
      ['Date', 'date'],
      ['DateTime', 'timestamp'],
      ['Time', 'time'],
      ['Binary', 'binary'],
      ['StringList', 'text'],
    ]);
  });

  it('writes OGR dates, datetimes and times as ISO 8601, with the zone only when OGR knows it', () => {
    expect(ogrFieldPlan('date').value({ year: 2020, month: 3, day: 4 })).toBe('2020-03-04');
    const dateTime = ogrFieldPlan('dateTime').value;
    expect(dateTime({ year: 2020, month: 3, day: 4, hour: 5, minute: 6, second: 7, timezone: 108 })).toBe('2020-03-04T05:06:07+02:00');
    expect(dateTime({ year: 2020, month: 3, day: 4, hour: 5, minute: 6, second: 7, timezone: 100 })).toBe('2020-03-04T05:06:07Z');
    expect(dateTime({ year: 2020, month: 3, day: 4, hour: 5, minute: 6, second: 7, timezone: 0 })).toBe('2020-03-04T05:06:07');
    expect(ogrFieldPlan('time').value({ hour: 23, minute: 59, second: 1 })).toBe('23:59:01');
    expect(ogrFieldPlan('time').value('05:06:07')).toBe('05:06:07');
    expect(isoZone(100 - 14)).toBe('-03:30');
  });

  it("writes OGR's text of date-times as ISO 8601, keeping the milliseconds and the zone", () => {
    const dateTime = ogrFieldPlan('dateTime').value;
    expect(ogrFieldPlan('dateTime').readAsText).toBe(true);
    expect(ogrFieldPlan('time').readAsText).toBe(true);
    expect(dateTime('2024/05/06 07:08:09.123+00')).toBe('2024-05-06T07:08:09.123Z');
    expect(dateTime('2024/05/06 07:08:09')).toBe('2024-05-06T07:08:09');
    expect(isoFromOgrText('2024/05/06 07:08:09.5+0530')).toBe('2024-05-06T07:08:09.5+05:30');
    expect(isoFromOgrText('2024/05/06 07:08:09-03')).toBe('2024-05-06T07:08:09-03:00');
    expect(ogrFieldPlan('time').value('07:08:09.456')).toBe('07:08:09.456');
    expect(dateTime('not a date')).toBe('not a date');
  });

  it('keeps NULL as null and binary as bytes', () => {
    expect(ogrFieldPlan('date').value(null)).toBeNull();
    expect(ogrFieldPlan('integer').value(null)).toBeNull();
    expect(ogrFieldPlan('binary').value(Buffer.from([1, 2]))).toEqual(Buffer.from([1, 2]));
    expect(ogrFieldPlan('binary').value('01FA')).toEqual(Buffer.from([1, 250]));
    expect(ogrFieldPlan('integerList').value([1, 2])).toBe('[1,2]');
  });
});
