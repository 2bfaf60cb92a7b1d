import { z } from 'zod';
import { MAX_COVER_PAGE_TEXT } from '../../validation/limits';
import { MAX_BROADCAST_RECIPIENTS } from '../../client/fax-client';
import { FAX_JOB_ID_PATTERN } from '../../contracts/workflow-ids';
import { V1_ERROR_CODE_LIST } from './error-codes';

/**
 * The v1 request schemas (zod: they validate, and their JSON Schema goes into the OpenAPI document)
 * and the response schemas (JSON Schema, documentation only).
 */

export const MAX_DOCUMENTS = 20;
export const MAX_METADATA_KEYS = 20;
export const DOCUMENT_ID_PATTERN = /^doc_[0-9a-f]{24}$/;
const METADATA_KEY = /^[A-Za-z0-9_.:-]{1,40}$/;

const phone = z.string().min(1).max(64);

export const coverPageSchema = z.strictObject({
  from: z.string().max(256).optional(),
  note: z.string().max(MAX_COVER_PAGE_TEXT).optional(),
  confidential: z.boolean().optional(),
});

export const metadataSchema = z
  .record(
    z.string().regex(METADATA_KEY, 'keys are 1-40 letters, digits, ".", "_", ":" or "-"'),
    z.string().max(500),
  )
  .refine((m) => Object.keys(m).length <= MAX_METADATA_KEYS, {
    message: `must have at most ${MAX_METADATA_KEYS} keys`,
  });

/** What every submission shares, whatever its encoding. */
const submitFields = {
  to: z.union([phone, z.array(phone).min(1).max(MAX_BROADCAST_RECIPIENTS)]),
  recipientName: z.string().min(1).max(128).optional(),
  coverPageText: z.string().max(MAX_COVER_PAGE_TEXT).optional(),
  coverIndex: z.number().int().min(0).max(13).optional(),
  coverPage: coverPageSchema.optional(),
  resolution: z.enum(['High', 'Low']).optional(),
  sendAt: z.string().min(1).max(64).optional(),
  schedule: z.enum(['timer', 'ringcentral']).optional(),
  metadata: metadataSchema.optional(),
  documentIds: z
    .array(z.string().regex(DOCUMENT_ID_PATTERN, 'is not a document id (doc_ and 24 hex digits)'))
    .max(MAX_DOCUMENTS)
    .optional(),
};

/** `POST /v1/faxes` as JSON: documents in base64 and/or ids of documents uploaded before. */
export const submitJsonSchema = z.strictObject({
  ...submitFields,
  documents: z
    .array(
      z.strictObject({
        filename: z.string().min(1).max(255),
        contentBase64: z.string().min(1),
      }),
    )
    .max(MAX_DOCUMENTS)
    .optional(),
});

/** `POST /v1/faxes` as multipart/form-data, once its text fields are collected (files apart). */
export const submitFormSchema = z.strictObject(submitFields);
export type SubmitFields = z.infer<typeof submitFormSchema>;

/** Which form fields may repeat (collected as arrays); the others must appear once. */
export const REPEATABLE_FORM_FIELDS = new Set(['to', 'documentIds']);
/** Form fields holding JSON, and fields holding numbers. */
export const JSON_FORM_FIELDS = new Set(['coverPage', 'metadata']);
export const NUMBER_FORM_FIELDS = new Set(['coverIndex']);

export const rescheduleSchema = z.strictObject({ sendAt: z.string().min(1).max(64) });

const FAX_STATUSES = [
  'Accepted',
  'Rejected',
  'Scheduled',
  'Sending',
  'Queued',
  'Sent',
  'WaitingToRedial',
  'Delivered',
  'SentUnconfirmed',
  'Failed',
  'Canceled',
  'NeedsReview',
  'Expired',
  'WaitingForConnection',
] as const;

export const listQuerySchema = z.strictObject({
  status: z
    .string()
    .max(400)
    .transform((s) => s.split(',').map((x) => x.trim()))
    .pipe(z.array(z.enum(FAX_STATUSES)))
    .optional(),
  recipient: z.string().min(1).max(64).optional(),
  createdFrom: z.iso.datetime({ offset: true }).optional(),
  createdTo: z.iso.datetime({ offset: true }).optional(),
  metadataKey: z.string().regex(METADATA_KEY).optional(),
  metadataValue: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().min(1).max(512).optional(),
});

export const eventsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().min(1).max(512).optional(),
});

export const jobIdParams = z.strictObject({ id: z.string().regex(FAX_JOB_ID_PATTERN) });

/** JSON Schema of a zod schema, as OpenAPI 3.1 (JSON Schema 2020-12) wants it. */
export function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

// ---- response schemas (documentation) ----

const nullable = (type: string | Record<string, unknown>) =>
  typeof type === 'string' ? { type: [type, 'null'] } : { anyOf: [type, { type: 'null' }] };

export const errorBodySchema = {
  $id: 'V1Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: V1_ERROR_CODE_LIST },
        message: { type: 'string', description: 'One sentence: what was wrong and what is allowed.' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;

export const faxSchema = {
  $id: 'V1Fax',
  type: 'object',
  required: [
    'object',
    'id',
    'tenantId',
    'status',
    'final',
    'to',
    'documents',
    'attempts',
    'metadata',
    'createdAt',
    'links',
  ],
  properties: {
    object: { type: 'string', const: 'fax' },
    id: { type: 'string' },
    tenantId: { type: 'string' },
    broadcastId: nullable('string'),
    status: { type: 'string', enum: [...FAX_STATUSES] },
    final: { type: 'boolean' },
    to: { type: 'string' },
    recipientName: nullable('string'),
    pages: nullable('integer'),
    documents: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          filename: { type: 'string' },
          contentType: { type: 'string' },
          sizeBytes: { type: 'integer' },
          sha256: { type: 'string' },
          pages: nullable('integer'),
        },
      },
    },
    attempts: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          attempt: { type: 'integer' },
          status: { type: 'string' },
          messageId: nullable('string'),
          faxErrorCode: nullable('string'),
          errorCode: nullable('string'),
          startedAt: { type: 'string', format: 'date-time' },
          finishedAt: nullable({ type: 'string', format: 'date-time' }),
        },
      },
    },
    nextAction: nullable({
      type: 'object',
      properties: {
        kind: { type: 'string', enum: ['send', 'redial', 'poll', 'wait-for-connection'] },
        at: nullable({ type: 'string', format: 'date-time' }),
      },
    }),
    sendAt: nullable({ type: 'string', format: 'date-time' }),
    error: nullable({
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    }),
    metadata: { type: 'object', additionalProperties: { type: 'string' } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    completedAt: nullable({ type: 'string', format: 'date-time' }),
    links: {
      type: 'object',
      properties: { self: { type: 'string' }, events: { type: 'string' }, report: { type: 'string' } },
    },
  },
} as const;

export const broadcastSchema = {
  $id: 'V1Broadcast',
  type: 'object',
  required: ['object', 'id', 'tenantId', 'total', 'counts', 'completed', 'faxes'],
  properties: {
    object: { type: 'string', const: 'broadcast' },
    id: { type: 'string' },
    tenantId: { type: 'string' },
    total: { type: 'integer' },
    counts: { type: 'object', additionalProperties: { type: 'integer' } },
    completed: { type: 'boolean' },
    faxes: { type: 'array', items: { $ref: 'V1Fax#' } },
    links: { type: 'object', properties: { self: { type: 'string' } } },
  },
} as const;

export const eventSchema = {
  $id: 'V1FaxEvent',
  type: 'object',
  properties: {
    id: { type: 'integer' },
    at: { type: 'string', format: 'date-time' },
    status: { type: 'string' },
    source: { type: 'string' },
    attempt: nullable('integer'),
    messageId: nullable('string'),
    faxErrorCode: nullable('string'),
  },
} as const;

export const documentSchema = {
  $id: 'V1Document',
  type: 'object',
  properties: {
    object: { type: 'string', const: 'document' },
    id: { type: 'string' },
    filename: { type: 'string' },
    contentType: { type: 'string' },
    sizeBytes: { type: 'integer' },
    sha256: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const pageOf = (ref: string) => ({
  type: 'object',
  required: ['data', 'nextCursor'],
  properties: { data: { type: 'array', items: { $ref: `${ref}#` } }, nextCursor: nullable('string') },
});

/** The error answers a route documents, each pointing at the V1Error schema. */
export function errorResponses(...statuses: number[]): Record<string, unknown> {
  const all = [...new Set([400, 401, 403, 429, 500, 503, ...statuses])].sort();
  return Object.fromEntries(all.map((s) => [String(s), { $ref: 'V1Error#', description: `Error (${s})` }]));
}
