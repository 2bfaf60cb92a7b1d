import type { RingCentralMessageStatus } from '../domain/fax-status';

/**
 * The narrow slice of RingCentral that faxflow uses. Everything outside `src/ringcentral` talks
 * to this interface, never to `@ringcentral/sdk`, so tests inject fakes and the SDK can change
 * without touching the pipeline.
 */
export interface RingCentralClient {
  sendFax(request: SendFaxRequest): Promise<FaxMessage>;
  getMessage(messageId: string): Promise<FaxMessage>;
  /** Outbound faxes created in [dateFrom, dateTo], newest first; follows every page. */
  listOutboundFaxes(query: { dateFrom: Date; dateTo?: Date; perPage?: number }): Promise<FaxMessage[]>;
  /** Deletes (or with `purge`, purges) a message; cancels a fax still waiting for its `sendTime`. */
  deleteMessage(messageId: string, opts?: { purge?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export interface FaxDocument {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface SendFaxRequest {
  to: { phoneNumber: string; name?: string }[];
  documents: FaxDocument[];
  faxResolution?: 'High' | 'Low';
  /** ISO 8601; RingCentral holds the fax until then. */
  sendTime?: string;
  /** 0 = no cover page, 1..13 = RingCentral templates, undefined = account default. */
  coverIndex?: number;
  coverPageText?: string;
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
}
