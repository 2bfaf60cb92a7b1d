import { describe, expect, it } from 'vitest';
import { normalizeFaxNumber, parseFaxNumber } from '../../src/validation/phone-number';

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

  it('refuses premium-rate numbers unless allowed (issue 8, item 22a)', () => {
    expect(() => normalizeFaxNumber('+1 900 555 0123', 'US')).toThrow(
      '+19005550123 is a premium-rate number, which faxflow does not dial unless the tenant allows premium-rate numbers.',
    );
    expect(() => normalizeFaxNumber('09011 234567', 'GB')).toThrow(/premium-rate/);
    expect(normalizeFaxNumber('+1 900 555 0123', 'US', { allowPremiumRate: true })).toBe('+19005550123');
  });

  it('says when a number was read in the default region', () => {
    expect(parseFaxNumber('(202) 555-0123', 'US')).toEqual({ e164: '+12025550123', readAsNationalIn: 'US' });
    expect(parseFaxNumber('+1 202 555 0123', 'US')).toEqual({ e164: '+12025550123' });
    expect(parseFaxNumber('011 44 20 7946 0018', 'US')).toEqual({ e164: '+442079460018' });
  });

  it('echoes at most 40 characters of a bad number', () => {
    const long = 'x'.repeat(10_000);
    let message = '';
    try {
      normalizeFaxNumber(long, 'US');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.length).toBeLessThan(200);
    expect(message).toContain(`"${'x'.repeat(40)}..."`);
  });
});
