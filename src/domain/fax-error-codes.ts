/**
 * RingCentral's per-recipient `faxErrorCode`s, split by whether calling again can help.
 * Line problems are transient; a wrong number, a permission or a document that cannot be
 * rendered will fail the same way every time.
 */
const REDIALABLE = new Set([
  'LineBusy',
  'NoAnswer',
  'CallerHungUp',
  'AllLinesInUse',
  'CallFailed',
  'NoFaxMachine',
  'TooManyCallsPerLine',
  'NotAccepted',
  'CallDeclined',
  'SentPartially',
  'InternalError',
  'Undefined',
]);

export function isRedialable(faxErrorCode: string | null | undefined): boolean {
  // A failure without a code is most likely a line problem: one more try is cheap, a lost fax is not.
  return faxErrorCode == null || REDIALABLE.has(faxErrorCode);
}

/**
 * RingCentral's refusals that no retry or redial can fix until someone changes the account or
 * the app (docs/simulator.md, "no fax permission" and "insufficient scopes").
 */
const PERMISSION_PROBLEMS: Record<string, string> = {
  'MSG-340': 'The RingCentral extension has no fax permission',
  'MSG-341': 'The RingCentral extension has no fax permission',
  'CMN-401': 'The RingCentral app lacks a permission (scope) this call needs',
  'CMN-408': 'The RingCentral user lacks a permission this call needs',
};

/** A final reason for a RingCentral refusal: what to fix, then RingCentral's own words. */
export function rejectionReason(errorCode: string, ringcentralMessage: string): string {
  const problem = PERMISSION_PROBLEMS[errorCode];
  return problem ? `${problem}; faxflow will not retry: ${ringcentralMessage}` : ringcentralMessage;
}
