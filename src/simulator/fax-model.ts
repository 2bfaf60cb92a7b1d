/** The shapes of the message store: a fax, its recipients, attachments and history, and list queries. */
import type { SniffedKind } from './content-types';
import type { ResolvedUser } from './options';
import type { RecipientStatus, StatusModel } from './outcomes';

export interface StoredAttachment {
  id: number;
  filename: string;
  /** content type recorded for the document (from its content where possible) */
  contentType: string;
  /** Content-Type header of the part, if any */
  declaredContentType: string | undefined;
  kind: SniffedKind;
  size: number;
  sha256: string;
  body: Buffer;
}

export interface HistoryEntry {
  status: string;
  at: string;
  faxErrorCode?: string;
  phoneNumber?: string;
}

export interface Recipient {
  phoneNumber: string;
  name?: string;
  messageStatus: RecipientStatus;
  faxErrorCode?: string;
  /** nth send to this number since the last reset (drives the busy-twice number) */
  sendIndex: number;
  recipientId: number;
}

export type Availability = 'Alive' | 'Deleted' | 'Purged';

export interface Fax {
  id: number;
  user: ResolvedUser;
  creationTime: number;
  lastModifiedTime: number;
  messageStatus: RecipientStatus;
  availability: Availability;
  readStatus: 'Read' | 'Unread';
  faxResolution: 'High' | 'Low';
  faxPageCount: number;
  coverIndex: number;
  /** coverIndex was omitted: the account's default cover page was attached */
  defaultCover: boolean;
  coverPageText: string | undefined;
  sendTime: number | undefined;
  attachments: StoredAttachment[];
  recipients: Recipient[];
  /** the sender's status model when the fax was accepted */
  statusModel: StatusModel;
  history: HistoryEntry[];
  recipientHistory: HistoryEntry[];
  rendered: boolean;
  /** transmission started (rendering done and not cancelled) */
  transmitting: boolean;
  cancelled: boolean;
  resendOf: number | undefined;
  /** the client never got an answer for this send (fault injection) */
  ambiguous: boolean;
  /** message-sync sequence number of the last change */
  seq: number;
  cancelTimers: Array<() => void>;
}

export interface NewFax {
  user: ResolvedUser;
  recipients: Array<{ phoneNumber: string; name?: string }>;
  faxResolution: 'High' | 'Low';
  coverIndex: number;
  defaultCover?: boolean;
  coverPageText: string | undefined;
  sendTime: number | undefined;
  attachments: StoredAttachment[];
  resendOf?: number;
}

export type ChangeKind = 'new' | 'updated';
export type ChangeListener = (fax: Fax, kind: ChangeKind) => void;

export interface ListQuery {
  direction?: string[];
  messageType?: string[];
  availability?: string[];
  dateFrom: number;
  dateTo: number;
  phoneNumber?: string;
  readStatus?: string[];
}
