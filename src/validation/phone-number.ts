import { parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js/max';
import { FaxValidationError } from './validation-error';

/**
 * Normalises a fax number to E.164. National formats are read in `defaultRegion`.
 *
 * We accept every *possible* number (right country code and length) rather than only numbers
 * libphonenumber knows to be assigned: its metadata lags real allocations, and RingCentral reports
 * an unassigned number itself (`InvalidNumber`), which the workflow records as a final failure.
 */
export function normalizeFaxNumber(raw: string, defaultRegion: string): string {
  const input = raw.trim();
  if (input === '') {
    throw new FaxValidationError(
      'INVALID_NUMBER',
      'The recipient fax number is empty; give it in E.164 form, e.g. +12025550123.',
    );
  }
  try {
    const parsed = parsePhoneNumberWithError(input, defaultRegion as CountryCode);
    if (!parsed.isPossible()) {
      throw new FaxValidationError(
        'INVALID_NUMBER',
        `"${input}" is not a possible phone number (wrong length for country code +${parsed.countryCallingCode}); give it in E.164 form, e.g. +12025550123.`,
      );
    }
    return parsed.number;
  } catch (err) {
    if (err instanceof FaxValidationError) throw err;
    throw new FaxValidationError(
      'INVALID_NUMBER',
      `"${input}" is not a phone number; give it in E.164 form (e.g. +12025550123) or in the national format of ${defaultRegion}.`,
    );
  }
}
