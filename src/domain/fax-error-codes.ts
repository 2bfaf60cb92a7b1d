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
