/**
 * Turns the body of POST .../fax into a validated send (or resend) request, with RingCentral's error
 * codes: multipart (form-data or mixed) with a JSON envelope part and file parts, the flat-field form,
 * or a plain JSON body (resend, cover-page-only fax).
 */
import { createHash } from 'node:crypto';
import { checkAttachmentType, FORBIDDEN_FILENAME_CHARS } from './content-types';
import {
  ApiError,
  attachmentTooLarge,
  badJson,
  envelopeUnparsable,
  invalidParameter,
  messageTooLarge,
} from './errors';
import type { StoredAttachment } from './fax-store';
import { boundaryOf, MultipartError, parseHeaderParams, parseMultipart } from './multipart';

export const MAX_TOTAL_ATTACHMENT_BYTES = 50 * 1024 * 1024;
/** the request body cap: the 50 MB of documents plus room for the envelope and multipart framing */
export const MAX_FAX_BODY_BYTES = MAX_TOTAL_ATTACHMENT_BYTES + 1024 * 1024;
export const MAX_COVER_PAGE_TEXT = 1024;
export const MAX_COVER_INDEX = 13;

const FIELD_NAMES = new Set([
  'to',
  'faxResolution',
  'sendTime',
  'isoCode',
  'coverIndex',
  'coverPageText',
  'originalMessageId',
]);

export interface ParsedFaxRequest {
  recipients: Array<{ phoneNumber: string; name?: string }> | undefined;
  faxResolution: 'High' | 'Low';
  sendTime: number | undefined;
  coverIndex: number | undefined;
  coverPageText: string | undefined;
  originalMessageId: number | undefined;
  attachments: StoredAttachment[];
}

type Envelope = Record<string, unknown>;

export function parseFaxRequest(
  contentTypeHeader: string | undefined,
  body: Buffer,
  now: number,
  newAttachmentId: () => number,
): ParsedFaxRequest {
  if (contentTypeHeader === undefined || contentTypeHeader.trim() === '')
    throw envelopeUnparsable('Content-Type header is missing');
  const mediaType = parseHeaderParams(contentTypeHeader).value;
  let envelope: Envelope = {};
  const flat: Record<string, string[]> = {};
  const files: Array<{ filename: string; contentType: string | undefined; body: Buffer }> = [];

  if (mediaType.startsWith('multipart/')) {
    const boundary = boundaryOf(contentTypeHeader);
    if (boundary === undefined) throw envelopeUnparsable('multipart boundary is missing');
    let parts;
    try {
      parts = parseMultipart(body, boundary);
    } catch (e) {
      if (e instanceof MultipartError) throw envelopeUnparsable(e.message);
      throw e;
    }
    if (parts.length === 0) throw envelopeUnparsable('no parts');
    let envelopeSeen = false;
    for (const part of parts) {
      const isEnvelope =
        part.contentType === 'application/json' ||
        (part.name === 'json' && part.filename === undefined) ||
        (part.name === 'json' && part.filename !== undefined && /\.json$/i.test(part.filename));
      if (isEnvelope) {
        if (envelopeSeen) throw envelopeUnparsable('more than one JSON envelope part');
        envelopeSeen = true;
        envelope = parseEnvelope(part.body);
        continue;
      }
      if (part.filename !== undefined) {
        const cte = part.headers['content-transfer-encoding']?.trim().toLowerCase();
        // older RingCentral samples send documents base64-encoded inside multipart/mixed
        const content = cte === 'base64' ? Buffer.from(part.body.toString('latin1'), 'base64') : part.body;
        files.push({ filename: part.filename, contentType: part.contentType, body: content });
        continue;
      }
      if (part.disposition === undefined)
        throw new ApiError(400, 'MSG-350', 'Content-Disposition header is missing in a message part');
      if (part.name !== undefined && FIELD_NAMES.has(part.name)) {
        (flat[part.name] ??= []).push(part.body.toString('utf8').trim());
        continue;
      }
      throw new ApiError(
        400,
        'MSG-351',
        `File name is not specified for part [${part.name ?? ''}]`,
        'attachment',
      );
    }
  } else if (mediaType === 'application/json') {
    envelope = parseEnvelope(body);
  } else if (mediaType === 'application/x-www-form-urlencoded') {
    const params = new URLSearchParams(body.toString('utf8'));
    for (const [k, v] of params) if (FIELD_NAMES.has(k)) (flat[k] ??= []).push(v);
  } else {
    throw new ApiError(415, 'MSG-348', `Unsupported Media Type [${mediaType}]`);
  }

  const field = (name: string): unknown => (name in envelope ? envelope[name] : flat[name]?.[0]);

  const originalMessageId = parseOriginalMessageId(field('originalMessageId'));
  const recipients = parseRecipients(envelope['to'] ?? flat['to'], originalMessageId !== undefined);
  const faxResolution = parseResolution(field('faxResolution'));
  const sendTime = parseSendTime(field('sendTime'), now);
  const isoCode = field('isoCode');
  if (isoCode !== undefined && (typeof isoCode !== 'string' || !/^[A-Za-z]{2}$/.test(isoCode)))
    throw invalidParameter('isoCode');
  const coverIndex = parseCoverIndex(field('coverIndex'));
  const coverPageText = field('coverPageText');
  if (
    coverPageText !== undefined &&
    (typeof coverPageText !== 'string' || coverPageText.length > MAX_COVER_PAGE_TEXT)
  )
    throw invalidParameter(
      'coverPageText',
      `Parameter [coverPageText] must be a string of at most ${MAX_COVER_PAGE_TEXT} characters`,
    );

  let total = 0;
  const attachments: StoredAttachment[] = files.map((f) => {
    const filename = f.filename.replace(/^.*[\\/]/, '');
    if (filename.trim() === '')
      throw new ApiError(400, 'MSG-351', 'File name is not specified', 'attachment');
    if (FORBIDDEN_FILENAME_CHARS.test(filename))
      throw invalidParameter(
        'attachment',
        `Attachment file name [${filename}] contains characters that are not allowed`,
      );
    if (f.body.length === 0)
      throw new ApiError(400, 'MSG-347', `Attachment [${filename}] is empty`, 'attachment');
    if (f.body.length > MAX_TOTAL_ATTACHMENT_BYTES)
      throw attachmentTooLarge(filename, MAX_TOTAL_ATTACHMENT_BYTES);
    total += f.body.length;
    if (total > MAX_TOTAL_ATTACHMENT_BYTES) throw messageTooLarge(MAX_TOTAL_ATTACHMENT_BYTES);
    const type = checkAttachmentType(filename, f.contentType, f.body);
    if (!type.ok)
      throw new ApiError(
        415,
        'MSG-348',
        `Unsupported media type of attachment [${filename}]: ${type.reason}`,
        'attachment',
      );
    return {
      id: newAttachmentId(),
      filename,
      contentType: type.contentType,
      declaredContentType: f.contentType,
      kind: type.kind,
      size: f.body.length,
      sha256: createHash('sha256').update(f.body).digest('hex'),
      // keep our own copy: the request buffer may be large and shared
      body: Buffer.from(f.body),
    };
  });

  return {
    recipients,
    faxResolution,
    sendTime,
    coverIndex,
    coverPageText: coverPageText as string | undefined,
    originalMessageId,
    attachments,
  };
}

function parseEnvelope(buf: Buffer): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw badJson((e as Error).message);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw badJson('the envelope must be a JSON object');
  return value as Envelope;
}

function normalizeNumber(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (!/^\+?[\d\s().-]+$/.test(trimmed)) return undefined;
  const digits = trimmed.replace(/\D/g, '');
  if (digits.length < 7 || digits.length > 15 || digits.startsWith('0')) return undefined;
  if (!trimmed.startsWith('+') && digits.length === 10) return `+1${digits}`;
  return `+${digits}`;
}

function parseRecipients(raw: unknown, optional: boolean): ParsedFaxRequest['recipients'] {
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) {
    if (optional) return undefined;
    throw invalidParameter('to', 'Parameter [to] is required: at least one recipient');
  }
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length > 50) throw invalidParameter('to', 'Too many recipients (max 50)');
  return list.map((item, i) => {
    let phone: unknown;
    let name: unknown;
    if (typeof item === 'string') phone = item;
    else if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      phone = (item as Record<string, unknown>)['phoneNumber'];
      name = (item as Record<string, unknown>)['name'];
    } else throw invalidParameter('to', `Parameter [to[${i}]] must be an object with phoneNumber`);
    if (typeof phone !== 'string')
      throw invalidParameter('to.phoneNumber', `Parameter [to[${i}].phoneNumber] is required`);
    const phoneNumber = normalizeNumber(phone);
    if (phoneNumber === undefined)
      throw invalidParameter(
        'to.phoneNumber',
        `Parameter [to[${i}].phoneNumber] value [${phone}] is invalid`,
      );
    if (name !== undefined && typeof name !== 'string') throw invalidParameter('to.name');
    return name !== undefined ? { phoneNumber, name: name as string } : { phoneNumber };
  });
}

function parseResolution(raw: unknown): 'High' | 'Low' {
  if (raw === undefined) return 'Low';
  if (typeof raw === 'string') {
    if (raw.toLowerCase() === 'high') return 'High';
    if (raw.toLowerCase() === 'low') return 'Low';
  }
  throw invalidParameter('faxResolution', `Parameter [faxResolution] value must be High or Low`);
}

function parseSendTime(raw: unknown, now: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw invalidParameter('sendTime');
  const t = Date.parse(raw);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(raw))
    throw invalidParameter('sendTime', 'Parameter [sendTime] must be an ISO 8601 date-time');
  return t > now ? t : undefined;
}

function parseCoverIndex(raw: unknown): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > MAX_COVER_INDEX)
    throw invalidParameter('coverIndex', `Parameter [coverIndex] must be an integer 0..${MAX_COVER_INDEX}`);
  return n;
}

function parseOriginalMessageId(raw: unknown): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw invalidParameter('originalMessageId');
  return n;
}
