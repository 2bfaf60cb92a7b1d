import type { FaxStatusObservation } from '../contracts/workflow-types';
import type { FaxMessage } from './types';

/** The recipient's own status wins over the message's aggregate (one fax, one recipient here). */
export function observeFaxMessage(message: FaxMessage, recipient: string): FaxStatusObservation {
  const mine = message.to.find((t) => t.phoneNumber === recipient) ?? message.to[0];
  return {
    status: mine?.messageStatus ?? message.messageStatus,
    ...(mine?.faxErrorCode && { faxErrorCode: mine.faxErrorCode }),
    ...(message.faxPageCount > 0 && { pages: message.faxPageCount }),
  };
}
