import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FieldValue, ObjectSchema } from '../core/schema.js';
import { objectMapping, parseProjectFile } from './project-file.js';
import { serialiseProjectFile } from './serialise.js';
import { mapRecord } from './transform.js';
import { DURATION_UNITS, type DurationUnit } from './types.js';

const source: ObjectSchema = { name: 'activities', fields: [{ name: 'minutes', type: 'string' }] };
const target: ObjectSchema = { name: 'calls', fields: [{ name: 'hs_call_duration', type: 'number' }] };

function duration(value: FieldValue, from: DurationUnit = 'minutes', to: DurationUnit = 'milliseconds') {
  const mapping = objectMapping({ source: 'activities', target: 'calls', fields: [{ source: ['minutes'], target: 'hs_call_duration', transform: { kind: 'duration', from, to } }] });
  return mapRecord(mapping, { id: 'a-1', fields: { minutes: value } }, { sourceSchema: source, targetSchema: target, sourceTimeZone: 'UTC' });
}

describe('transform: duration', () => {
  it('converts a number in one unit to another, and a clock text H:MM[:SS] whatever the unit', () => {
    expect(duration(5).values.hs_call_duration).toBe(300_000);
    expect(duration('1.5').values.hs_call_duration).toBe(90_000);
    expect(duration(' 90 ', 'seconds').values.hs_call_duration).toBe(90_000);
    expect(duration('00:30').values.hs_call_duration).toBe(1_800_000);
    expect(duration('1:30', 'hours').values.hs_call_duration).toBe(5_400_000);
    // With a unit of seconds (or finer) a two-part clock is minutes:seconds; three parts are always h:mm:ss.
    expect(duration('05:30', 'seconds').values.hs_call_duration).toBe(330_000);
    expect(duration('1:02:03', 'seconds').values.hs_call_duration).toBe(3_723_000);
    expect(duration('1:02:03').values.hs_call_duration).toBe(3_723_000);
    expect(duration(90_000, 'milliseconds', 'minutes').values.hs_call_duration).toBe(1.5);
    expect(duration(1234.4, 'milliseconds', 'milliseconds').values.hs_call_duration).toBe(1234);
    expect(duration(null).values.hs_call_duration).toBeNull();
    expect(duration('').values.hs_call_duration).toBeNull();
  });

  it('fails a value that is no duration, naming the record, field and value', () => {
    for (const bad of ['five', '-3', '1:75', '10 min']) {
      const result = duration(bad);
      expect(result.values, bad).toEqual({});
      expect(result.errors[0], bad).toMatchObject({ code: 'INVALID_VALUE', field: 'hs_call_duration', value: bad });
      expect(result.errors[0]?.message, bad).toMatch(/^activities a-1: calls\.hs_call_duration: /);
    }
  });

  it('a round trip through two units gives the number back (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.constantFrom(...DURATION_UNITS), (millis, unit) => {
        const there = duration(millis, 'milliseconds', unit).values.hs_call_duration as number;
        const back = duration(there, unit, 'milliseconds').values.hs_call_duration;
        expect(back).toBe(millis);
      }),
      { seed: 13, numRuns: 200 },
    );
  });

  it('is written in ferry.yaml with both units, which are required', () => {
    const head = 'version: 1\nsource: { connector: sql, dialect: sqlite, path: a.db }\ntarget: { connector: sql, dialect: sqlite, path: b.db }\nobjects:\n  activities:\n    target: calls\n    fields:\n';
    const project = parseProjectFile(`${head}      minutes: { target: hs_call_duration, transform: duration, from: minutes, to: milliseconds }\n`, 'ferry.yaml', {});
    expect(project.objects[0]!.fields[0]!.transform).toEqual({ kind: 'duration', from: 'minutes', to: 'milliseconds' });
    const again = parseProjectFile(serialiseProjectFile(project), 'ferry.yaml', {});
    expect(again.objects[0]!.fields).toEqual(project.objects[0]!.fields);
    expect(() => parseProjectFile(`${head}      minutes: { target: hs_call_duration, transform: duration }\n`, 'ferry.yaml', {})).toThrow(/needs "from" and "to"/);
    expect(() => parseProjectFile(`${head}      minutes: { target: hs_call_duration, transform: duration, from: fortnights, to: seconds }\n`, 'ferry.yaml', {})).toThrow(/unknown value "fortnights" \(expected one of milliseconds, seconds, minutes, hours\)/);
    expect(() => parseProjectFile(`${head}      minutes: { target: hs_call_duration, transform: trim, from: minutes }\n`, 'ferry.yaml', {})).toThrow(/"from" does not apply to transform trim/);
  });
});
