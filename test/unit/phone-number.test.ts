import { describe, expect, it } from 'vitest';
import { normalizeFaxNumber } from '../../src/validation/phone-number';

describe('normalizeFaxNumber', () => {
  it('normalises national and international formats to E.164', () => {
    expect(normalizeFaxNumber('(202) 555-0123', 'US')).toBe('+12025550123');
    expect(normalizeFaxNumber('+1 202 555 0123', 'US')).toBe('+12025550123');
    expect(normalizeFaxNumber('020 7946 0018', 'GB')).toBe('+442079460018');
  });

  it('keeps the simulator numbers usable', () => {
    expect(normalizeFaxNumber('+15550000001', 'US')).toBe('+15550000001');
  });

  it('refuses text, empty input and impossible lengths with one sentence', () => {
    expect(() => normalizeFaxNumber('not a number', 'US')).toThrow(
      /"not a number" is not a phone number; give it in E\.164 form/,
    );
    expect(() => normalizeFaxNumber('  ', 'US')).toThrow(/empty/);
    expect(() => normalizeFaxNumber('+1 202 555', 'US')).toThrow(/not a possible phone number/);
  });
});
