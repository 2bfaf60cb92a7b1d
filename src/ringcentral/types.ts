import type { FaxSendOptions } from '../contracts/fax-send-options';
import type { RingCentralMessageStatus } from '../domain/fax-status';

/**
 * The narrow slice of RingCentral that faxflow uses. Everything outside `src/ringcentral` talks
 * to this interface, never to `@ringcentral/sdk`, so tests inject fakes and the SDK can change
 * without touching the pipeline.
 */
export interface RingCentralClient {
  sendFax(request: SendFaxRequest, opts?: SendFaxOptions): Promise<FaxMessage>;
  getMessage(messageId: string): Promise<FaxMessage>;
  /** Outbound faxes created in [dateFrom, dateTo], newest first; follows every page. */
  listOutboundFaxes(query: ListOutboundFaxesQuery): Promise<FaxMessage[]>;
  /** Deletes (or with `purge`, purges) a message; cancels a fax still waiting for its `sendTime`. */
  deleteMessage(messageId: string, opts?: { purge?: boolean }): Promise<void>;
  /** Creates a webhook subscription; RingCentral first checks the address with a Validation-Token handshake. */
  createSubscription(request: CreateSubscriptionRequest): Promise<Subscription>;
  /** The subscription, or undefined when RingCentral no longer has it (404). */
  getSubscription(id: string): Promise<Subscription | undefined>;
  renewSubscription(id: string): Promise<Subscription>;
  deleteSubscription(id: string): Promise<void>;
  /** Every subscription this app holds for this user (`GET /restapi/v1.0/subscription`, not paged). */
  listSubscriptions(): Promise<Subscription[]>;
  close(): Promise<void>;
}

export interface ListOutboundFaxesQuery {
  dateFrom: Date;
  dateTo?: Date;
  perPage?: number;
  /**
   * Awaited before each page after the first is requested: every page is a GET of its own, one
   * Light call, which the rate budgets charge here. A rejection ends the listing with that error.
   */
  beforeNextPage?: () => Promise<void>;
}

/** The event filter for our outbound faxes' status changes. */
export const OUTBOUND_FAX_EVENT_FILTER =
  '/restapi/v1.0/account/~/extension/~/message-store?type=Fax&direction=Outbound';

export interface CreateSubscriptionRequest {
  address: string;
  verificationToken: string;
  expiresInSeconds: number;
}

export interface Subscription {
  id: string;
  /** Active, Suspended, Blacklisted. */
  status: string;
  expirationTime: string;
  /** Where RingCentral posts its notifications (`deliveryMode.address`), when it says. */
  address?: string;
}

export interface FaxDocument {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface SendFaxOptions {
  /** Aborts the upload on the socket (e.g. the activity's cancellation signal). */
  signal?: AbortSignal;
  /** Called periodically while the request is in flight, so a long upload keeps its activity alive. */
  heartbeat?: () => void;
}

export interface SendFaxRequest extends FaxSendOptions {
  to: { phoneNumber: string; name?: string }[];
  documents: FaxDocument[];
  /** ISO 8601; RingCentral holds the fax until then. */
  sendTime?: string;
}

export interface FaxRecipientStatus {
  phoneNumber: string;
  name?: string;
  messageStatus?: RingCentralMessageStatus;
  faxErrorCode?: string;
}

/** The parts of RingCentral's message record that faxflow reads. */
export interface FaxMessage {
  id: string;
  messageStatus: RingCentralMessageStatus;
  creationTime: string;
  lastModifiedTime: string;
  faxPageCount: number;
  availability: string;
  to: FaxRecipientStatus[];
  /** The uploaded files as RingCentral stored them (GET carries `fileName`, a send's answer `filename`). */
  attachments?: { fileName?: string }[];
  /** The cover page template the fax was sent with (0: none). */
  coverIndex?: number;
}
