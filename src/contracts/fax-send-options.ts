/**
 * How RingCentral renders and transmits one fax. The same shape travels the whole way: HTTP body →
 * fax client → FaxWorkflow input → sendFax → the RingCentral adapter's request.
 */
export interface FaxSendOptions {
  /** 0 = no cover page, 1..13 = RingCentral templates, undefined = account default. */
  coverIndex?: number;
  coverPageText?: string;
  faxResolution?: 'High' | 'Low';
}

/**
 * Only the send options of a larger object, and only those that are set: the one place that copies
 * them from one hop to the next.
 */
export function faxSendOptions(from: FaxSendOptions): FaxSendOptions {
  return {
    ...(from.coverIndex !== undefined && { coverIndex: from.coverIndex }),
    ...(from.coverPageText !== undefined && { coverPageText: from.coverPageText }),
    ...(from.faxResolution !== undefined && { faxResolution: from.faxResolution }),
  };
}
