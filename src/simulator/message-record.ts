/** The JSON a client sees for a fax: RingCentral's message record. */
import type { Fax } from './fax-store';

export interface MessageRecord {
  uri: string;
  id: number;
  to: Array<{
    phoneNumber: string;
    name?: string;
    location?: string;
    messageStatus: string;
    faxErrorCode?: string;
  }>;
  from: { phoneNumber: string; name: string; location: string };
  type: 'Fax';
  creationTime: string;
  readStatus: string;
  priority: 'Normal';
  attachments: Array<{
    id: number;
    uri: string;
    type: 'RenderedDocument';
    contentType: string;
    fileName?: string;
  }>;
  direction: 'Outbound';
  availability: string;
  messageStatus: string;
  faxResolution: string;
  faxPageCount: number;
  lastModifiedTime: string;
  coverIndex: number;
  coverPageText?: string;
}

/** RingCentral prints times with milliseconds and Z. */
export const iso = (ms: number): string => new Date(ms).toISOString();

export function messageStoreUri(baseUrl: string, fax: Fax): string {
  return `${baseUrl}/restapi/v1.0/account/${fax.user.accountId}/extension/${fax.user.extensionId}/message-store/${fax.id}`;
}

export function toRecord(fax: Fax, baseUrl: string): MessageRecord {
  const uri = messageStoreUri(baseUrl, fax);
  const record: MessageRecord = {
    uri,
    id: fax.id,
    to: fax.recipients.map((r) => ({
      phoneNumber: r.phoneNumber,
      ...(r.name !== undefined ? { name: r.name } : {}),
      location: r.phoneNumber.startsWith('+1') ? 'United States' : 'International',
      messageStatus: r.messageStatus,
      ...(r.faxErrorCode !== undefined ? { faxErrorCode: r.faxErrorCode } : {}),
    })),
    from: { phoneNumber: fax.user.phoneNumber, name: fax.user.name, location: 'San Mateo, CA' },
    type: 'Fax',
    creationTime: iso(fax.creationTime),
    readStatus: fax.readStatus,
    priority: 'Normal',
    attachments: fax.attachments.map((a) => ({
      id: a.id,
      uri: `${uri}/content/${a.id}`,
      type: 'RenderedDocument' as const,
      contentType: a.contentType,
      fileName: a.filename,
    })),
    direction: 'Outbound',
    availability: fax.availability,
    messageStatus: fax.messageStatus,
    faxResolution: fax.faxResolution,
    faxPageCount: fax.faxPageCount,
    lastModifiedTime: iso(fax.lastModifiedTime),
    coverIndex: fax.coverIndex,
  };
  if (fax.coverPageText !== undefined) record.coverPageText = fax.coverPageText;
  return record;
}

/**
 * The answer to a send differs from GET in two fields: attachments carry `filename`, not `fileName`
 * (FaxResponse -> MessageAttachmentInfoIntId in ringcentral-extensible), and each recipient carries
 * `recipientId` (the project's RingCentral notes; not in the generated FaxResponseTo type).
 */
export function toSendResponse(fax: Fax, baseUrl: string): unknown {
  const record = toRecord(fax, baseUrl);
  return {
    ...record,
    to: record.to.map((t, i) => ({ ...t, recipientId: String(fax.recipients[i]?.recipientId ?? '') })),
    attachments: record.attachments.map(({ fileName, ...a }) => ({ ...a, filename: fileName })),
  };
}
