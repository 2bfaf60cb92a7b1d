import { getCountryCallingCode, parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js/max';
import { FaxValidationError } from './validation-error';

export interface FaxNumberOptions {
  /**
   * Premium-rate numbers (+1 900, UK 09…) bill the caller per minute: a typo or a hostile upload
   * list could run up a large bill, so they are refused unless the tenant allows them.
   */
  allowPremiumRate?: boolean;
}

export interface ParsedFaxNumber {
  /** E.164, e.g. +12025550123. */
  e164: string;
  /** Set when the number was given without a country code and read in this region. */
  readAsNationalIn?: string;
}

/** Echo at most this much of what the caller sent: enough to recognise it, never a flood. */
const ECHO_MAX = 40;

function echo(input: string): string {
  return JSON.stringify(input.length > ECHO_MAX ? `${input.slice(0, ECHO_MAX)}...` : input);
}

/**
 * Reads a fax number into E.164. National formats are read in `defaultRegion` (and the result says
 * so, so the job can record it).
 *
 * We accept every *possible* number (right country code and length) rather than only numbers
 * libphonenumber knows to be assigned: its metadata lags real allocations, and RingCentral reports
 * an unassigned number itself (`InvalidNumber`), which the workflow records as a final failure.
 */
export function parseFaxNumber(
  raw: string,
  defaultRegion: string,
  opts: FaxNumberOptions = {},
): ParsedFaxNumber {
  const input = raw.trim();
  if (input === '') {
    throw new FaxValidationError(
      'INVALID_NUMBER',
      'The recipient fax number is empty; give it in E.164 form, e.g. +12025550123.',
    );
  }
  let parsed;
  try {
    parsed = parsePhoneNumberWithError(input, defaultRegion as CountryCode);
  } catch {
    throw new FaxValidationError(
      'INVALID_NUMBER',
      `${echo(input)} is not a phone number; give it in E.164 form (e.g. +12025550123) or in the national format of ${defaultRegion}.`,
    );
  }
  if (!parsed.isPossible()) {
    throw new FaxValidationError(
      'INVALID_NUMBER',
      `${echo(input)} is not a possible phone number (wrong length for country code +${parsed.countryCallingCode}); give it in E.164 form, e.g. +12025550123.`,
    );
  }
  if (!opts.allowPremiumRate && parsed.getType() === 'PREMIUM_RATE') {
    throw new FaxValidationError(
      'PREMIUM_RATE_NUMBER',
      `${parsed.number} is a premium-rate number, which faxflow does not dial unless the tenant allows premium-rate numbers.`,
    );
  }
  // Without a '+', the number was read in the default region (an international prefix such as
  // 011 would have led to another country code).
  const national =
    !input.startsWith('+') &&
    parsed.countryCallingCode === getCountryCallingCode(defaultRegion as CountryCode);
  return { e164: parsed.number, ...(national && { readAsNationalIn: defaultRegion }) };
}

/** `parseFaxNumber`, E.164 only. */
export function normalizeFaxNumber(raw: string, defaultRegion: string, opts: FaxNumberOptions = {}): string {
  return parseFaxNumber(raw, defaultRegion, opts).e164;
}

/**
 * Which tenants may fax premium-rate numbers (`FAXFLOW_PREMIUM_RATE_TENANTS`): ids, or `*` for
 * every tenant. Jobs without a tenant count as the tenant `default`.
 */
export function premiumRateAllowed(allowedTenants: readonly string[], tenantId: string | undefined): boolean {
  return allowedTenants.includes('*') || allowedTenants.includes(tenantId ?? 'default');
}
