import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/multipart';
import type { z } from 'zod';
import type { FaxClient } from '../../client/fax-client';
import type { V1Broadcast, V1Fax, V1Page } from '../../contracts/v1-api';
import { faxSendOptions } from '../../contracts/fax-send-options';
import { isFinalStatus, type FaxJobStatus } from '../../domain/fax-status';
import { sendAtProblem } from '../../domain/send-time';
import type { Db } from '../../db/schema';
import { findV1Documents } from '../../db/v1-documents';
import {
  findV1Job,
  findV1Jobs,
  insertSubmissions,
  listV1Attempts,
  listV1BroadcastJobIds,
  listV1Events,
  listV1JobIds,
  type NewSubmission,
  type V1JobRecord,
} from '../../db/v1-faxes';
import type { DocumentRef } from '../../storage/document-store';
import { MAX_TOTAL_BYTES } from '../../validation/limits';
import { normalizeFaxNumber, premiumRateAllowed } from '../../validation/phone-number';
import { FaxValidationError } from '../../validation/validation-error';
import { ApiError, describeZodError, quote } from '../errors';
import { tenantOf } from './auth';
import { decodeCursor, encodeCursor } from './cursor';
import { DocumentStager, documentsTooLarge } from './document-stager';
import { toV1Event, toV1Fax } from './fax-view';
import { answerOnce, fingerprintOf, idempotencyKeyOf, type Answer } from './idempotency';
import {
  broadcastSchema,
  errorResponses,
  eventsQuerySchema,
  jobIdParams,
  JSON_FORM_FIELDS,
  jsonSchemaOf,
  listQuerySchema,
  NUMBER_FORM_FIELDS,
  pageOf,
  REPEATABLE_FORM_FIELDS,
  rescheduleSchema,
  submitFormSchema,
  submitJsonSchema,
  type SubmitFields,
} from './schemas';
import type { WorkflowControl } from './workflow-control';

export type V1FaxClient = Pick<FaxClient, 'startFax' | 'startBroadcast'>;

export interface V1FaxRoutesOptions {
  db: Db;
  faxClient: V1FaxClient;
  /** The local document store's folder: uploads are streamed into it. */
  documentsRoot: string;
  control: WorkflowControl;
  defaultRegion: string;
  premiumRateTenants: readonly string[];
  jsonBodyLimit: number;
}

/** Multipart bodies are cut off at the documents' limit plus this much for the form's other fields. */
export const FORM_OVERHEAD_BYTES = 2 * 1024 * 1024;
/** How long GET waits for the workflow's live state (the next action's time) before answering without. */
const LIVE_STATE_WAIT_MS = 800;

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function invalid(message: string, details?: Record<string, unknown>): ApiError {
  return new ApiError(400, 'INVALID_REQUEST', message, {}, details);
}

function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(
      describeZodError(parsed.error, input, what),
      issue ? { field: issue.path.join('.') } : undefined,
    );
  }
  return parsed.data;
}

function decodeBase64(value: string, field: string): Buffer {
  const compact = /\s/.test(value) ? value.replace(/\s+/g, '') : value;
  if (!BASE64.test(compact) || compact.length % 4 === 1) {
    throw invalid(`The field "${field}" is not valid base64; encode the document's bytes with base64.`, {
      field,
    });
  }
  return Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
}

/** A refusal before anything is read: the declared body is over what the route could accept. */
export function refuseDeclaredOversize(request: FastifyRequest, limit: number): void {
  // JSON bodies have the route's bodyLimit; this is for the streamed multipart ones.
  if (!/^multipart\//i.test(request.headers['content-type'] ?? '')) return;
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw documentsTooLarge(MAX_TOTAL_BYTES);
}

/** Form fields as the schema wants them: repeatable ones as arrays, JSON and numbers parsed. */
function formFields(raw: Map<string, string[]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, values] of raw) {
    if (values.length > 1 && !REPEATABLE_FORM_FIELDS.has(name)) {
      throw invalid(`The form field ${quote(name)} appears ${values.length} times; give it once.`, {
        field: name,
      });
    }
    const value = values[0]!;
    if (name === 'to') out[name] = values.length === 1 ? value : values;
    else if (REPEATABLE_FORM_FIELDS.has(name)) out[name] = values;
    else if (JSON_FORM_FIELDS.has(name)) {
      try {
        out[name] = JSON.parse(value) as unknown;
      } catch {
        throw invalid(`The form field "${name}" is not valid JSON; send a JSON object.`, { field: name });
      }
    } else if (NUMBER_FORM_FIELDS.has(name)) {
      out[name] = /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
    } else out[name] = value;
  }
  return out;
}

const FILE_FIELDS = new Set(['file', 'documents']);

/** Streams the form's files into the stager and returns its text fields. */
async function readForm(request: FastifyRequest, stager: DocumentStager): Promise<Record<string, unknown>> {
  const raw = new Map<string, string[]>();
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        if (!FILE_FIELDS.has(part.fieldname)) {
          throw invalid(
            `The form has a file in ${quote(part.fieldname)}; send documents in "file" or "documents" parts.`,
            {
              field: part.fieldname,
            },
          );
        }
        await stager.stage(part.file, part.filename);
      } else {
        if (part.valueTruncated) {
          throw invalid(`The form field ${quote(part.fieldname)} is too long; fields are at most 64 KiB.`, {
            field: part.fieldname,
          });
        }
        const list = raw.get(part.fieldname) ?? [];
        list.push(typeof part.value === 'string' ? part.value : String(part.value));
        raw.set(part.fieldname, list);
      }
    }
  } catch (err) {
    if (err instanceof ApiError || err instanceof FaxValidationError) throw err;
    if (typeof (err as { statusCode?: unknown }).statusCode === 'number') throw err;
    throw new ApiError(
      400,
      'INVALID_MULTIPART',
      'The multipart body is malformed or ended early; send a complete multipart/form-data body.',
    );
  }
  return formFields(raw);
}

interface Submission {
  fields: SubmitFields;
  refs: DocumentRef[];
}

/** Reads and checks a submission in either encoding; staged files stay uncommitted. */
async function readSubmission(
  request: FastifyRequest,
  stager: DocumentStager,
  db: Db,
  tenantId: string,
): Promise<Submission> {
  let fields: SubmitFields;
  if (request.isMultipart()) {
    fields = parseWith(submitFormSchema, await readForm(request, stager), 'form');
  } else {
    const body = parseWith(submitJsonSchema, request.body, 'request body');
    const { documents = [], ...rest } = body;
    fields = rest;
    for (const [i, d] of documents.entries()) {
      const bytes = decodeBase64(d.contentBase64, `documents[${i}].contentBase64`);
      await stager.stage(Readable.from([bytes]), d.filename);
    }
  }
  const staged = stager.refs();
  const ids = fields.documentIds ?? [];
  const found = await findV1Documents(db, tenantId, ids);
  const byId = new Map(found.map((d) => [d.id, d]));
  const missing = ids.find((id) => !byId.has(id));
  if (missing !== undefined) {
    throw new ApiError(
      422,
      'UNKNOWN_DOCUMENT',
      `There is no document ${quote(missing)}; upload it with POST /v1/documents first.`,
      {},
      { documentId: missing },
    );
  }
  const referenced = ids.map((id) => {
    const { id: _id, createdAt: _c, ...ref } = byId.get(id)!;
    return ref;
  });
  const refs = [...staged, ...referenced];
  if (refs.length === 0) {
    throw new FaxValidationError(
      'NO_DOCUMENTS',
      'The fax has no documents; attach a file (or give documentIds).',
    );
  }
  const total = refs.reduce((n, r) => n + r.size, 0);
  if (total > MAX_TOTAL_BYTES) {
    throw new FaxValidationError(
      'DOCUMENT_TOO_LARGE',
      `The documents total ${(total / 1048576).toFixed(1)} MB; RingCentral accepts at most 50.0 MB per fax.`,
    );
  }
  return { fields, refs };
}

export const v1FaxRoutes: FastifyPluginAsync<V1FaxRoutesOptions> = async (app, opts) => {
  const { db, faxClient, control } = opts;
  const formLimit = MAX_TOTAL_BYTES + FORM_OVERHEAD_BYTES;

  async function loadRecord(request: FastifyRequest, id: string): Promise<V1JobRecord> {
    const record = await findV1Job(db, tenantOf(request).id, id);
    if (!record) throw new ApiError(404, 'NOT_FOUND', `There is no fax ${quote(id)}.`);
    return record;
  }

  async function liveState(record: V1JobRecord) {
    const workflowId = record.job?.workflow_id ?? record.submission?.workflow_id;
    if (!workflowId || record.job?.completed_at) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), LIVE_STATE_WAIT_MS);
    });
    try {
      return await Promise.race([control.status(workflowId).catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function viewOf(record: V1JobRecord, live = false): Promise<V1Fax> {
    const [attempts, state] = await Promise.all([
      listV1Attempts(db, record),
      live ? liveState(record) : undefined,
    ]);
    return toV1Fax(record, attempts, state);
  }

  async function loadFax(tenantId: string, id: string): Promise<V1Fax> {
    const record = await findV1Job(db, tenantId, id);
    if (!record) throw new Error(`fax ${id} vanished right after it was recorded`);
    return viewOf(record);
  }

  app.post(
    '/faxes',
    {
      bodyLimit: opts.jsonBodyLimit,
      onRequest: async (request) => refuseDeclaredOversize(request, formLimit),
      schema: {
        summary: 'Send a fax (or a broadcast: several `to`)',
        description:
          'multipart/form-data: files in `file` or `documents` parts (streamed, at most 50 MB together), fields `to` (repeat it for a broadcast), `recipientName`, `coverPageText`, `coverIndex`, `coverPage` (JSON), `resolution`, `sendAt`, `schedule`, `metadata` (JSON object of strings), `documentIds` (repeatable). Or application/json (at most 10 MiB) with the same fields and `documents: [{filename, contentBase64}]`. `Idempotency-Key` (1-128 of `A-Za-z0-9._:-`) becomes the fax id.',
        tags: ['faxes'],
        consumes: ['application/json', 'multipart/form-data'],
        headers: {
          type: 'object',
          properties: {
            'idempotency-key': { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$' },
          },
        },
        body: jsonSchemaOf(submitJsonSchema),
        response: {
          202: {
            description: 'Accepted: the fax (or the broadcast with its faxes)',
            anyOf: [{ $ref: 'V1Fax#' }, { $ref: 'V1Broadcast#' }],
          },
          200: {
            description:
              'A replay of the first answer for this Idempotency-Key (header Idempotent-Replayed: true)',
            anyOf: [{ $ref: 'V1Fax#' }, { $ref: 'V1Broadcast#' }],
          },
          ...errorResponses(409, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      const key = idempotencyKeyOf(request.headers);
      const stager = new DocumentStager(opts.documentsRoot);
      try {
        const { fields, refs } = await readSubmission(request, stager, db, tenant.id);
        const recipients = typeof fields.to === 'string' ? [fields.to] : fields.to;
        const broadcast = Array.isArray(fields.to);
        if (fields.sendAt !== undefined) {
          const problem = sendAtProblem(fields.sendAt, Date.now());
          if (problem) throw new ApiError(400, 'INVALID_SEND_AT', problem, {}, { field: 'sendAt' });
        }
        const allowPremiumRate = premiumRateAllowed(opts.premiumRateTenants, tenant.id);
        // A single fax's number is checked before anything is stored; a broadcast's by each recipient's job.
        const normalized = recipients.map((to) => {
          try {
            return normalizeFaxNumber(to, opts.defaultRegion, { allowPremiumRate });
          } catch (err) {
            if (broadcast) return to;
            throw err;
          }
        });
        const fingerprint = fingerprintOf('POST /v1/faxes', {
          ...fields,
          documentIds: undefined,
          documents: refs.map((r) => [r.sha256, r.filename]),
        });
        return await answerOnce(
          db,
          reply,
          { tenantId: tenant.id, key, fingerprint },
          async (): Promise<Answer> => {
            const stagedCount = stager.count;
            const documents = [...(await stager.commit()), ...refs.slice(stagedCount)];
            const common = {
              documents: documents.map((stored) => ({ stored })),
              tenantId: tenant.id,
              ...(fields.sendAt !== undefined && { sendAt: fields.sendAt }),
              ...(fields.schedule !== undefined && { schedule: fields.schedule }),
              ...(fields.coverPage !== undefined && {
                coverPage: {
                  ...(fields.coverPage.from !== undefined && { from: fields.coverPage.from }),
                  ...(fields.coverPage.note !== undefined && { note: fields.coverPage.note }),
                  ...(fields.coverPage.confidential !== undefined && {
                    confidential: fields.coverPage.confidential,
                  }),
                },
              }),
              ...(key !== undefined && { idempotencyKey: key }),
              ...faxSendOptions({
                ...(fields.coverIndex !== undefined && { coverIndex: fields.coverIndex }),
                ...(fields.coverPageText !== undefined && { coverPageText: fields.coverPageText }),
                ...(fields.resolution !== undefined && { faxResolution: fields.resolution }),
              }),
            };
            const sendAt = fields.sendAt === undefined ? null : new Date(fields.sendAt).toISOString();
            const base = { tenantId: tenant.id, documents, sendAt, metadata: fields.metadata ?? {} };
            if (!broadcast) {
              const started = await faxClient.startFax({
                ...common,
                to: recipients[0]!,
                ...(fields.recipientName !== undefined && { recipientName: fields.recipientName }),
              });
              await insertSubmissions(db, [
                {
                  ...base,
                  jobId: started.jobId,
                  workflowId: started.workflowId,
                  recipient: normalized[0]!,
                  recipientName: fields.recipientName ?? null,
                },
              ]);
              request.log.info({ jobId: started.jobId, started: started.started }, 'v1 fax submitted');
              return { statusCode: 202, body: await loadFax(tenant.id, started.jobId) };
            }
            const started = await faxClient.startBroadcast({
              ...common,
              recipients: recipients.map((to) => ({ to })),
            });
            const rows: NewSubmission[] = started.jobIds.map((jobId, i) => ({
              ...base,
              jobId,
              // The children's workflow ids follow the client's scheme; the broadcast's is kept too.
              workflowId: started.workflowId
                .replace(/^broadcast-/, 'fax-')
                .replace(started.broadcastId, jobId),
              broadcastId: started.broadcastId,
              recipient: normalized[i]!,
            }));
            await insertSubmissions(db, rows);
            request.log.info(
              { broadcastId: started.broadcastId, recipients: rows.length },
              'v1 broadcast submitted',
            );
            return { statusCode: 202, body: await broadcastView(tenant.id, started.broadcastId) };
          },
        );
      } finally {
        await stager.discard();
      }
    },
  );

  async function broadcastView(
    tenantId: string,
    broadcastId: string,
  ): Promise<V1Broadcast & { links: { self: string } }> {
    const ids = await listV1BroadcastJobIds(db, tenantId, broadcastId);
    if (ids.length === 0)
      throw new ApiError(404, 'NOT_FOUND', `There is no broadcast ${quote(broadcastId)}.`);
    const faxes = (await findV1Jobs(db, tenantId, ids)).map(({ record, attempts }) =>
      toV1Fax(record, attempts),
    );
    const counts: Partial<Record<FaxJobStatus, number>> = {};
    for (const f of faxes)
      if (f.status !== 'WaitingForConnection') counts[f.status] = (counts[f.status] ?? 0) + 1;
    return {
      object: 'broadcast',
      id: broadcastId,
      tenantId,
      total: faxes.length,
      counts,
      completed: faxes.every((f) => f.final),
      faxes,
      links: { self: `/v1/broadcasts/${encodeURIComponent(broadcastId)}` },
    };
  }

  const idParams = jsonSchemaOf(jobIdParams);

  app.get(
    '/faxes/:id',
    {
      schema: {
        summary: 'A fax: status, attempts, next action, documents',
        tags: ['faxes'],
        params: idParams,
        response: { 200: { $ref: 'V1Fax#' }, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { id } = parseWith(jobIdParams, request.params, 'path');
      return viewOf(await loadRecord(request, id), true);
    },
  );

  app.get(
    '/faxes',
    {
      schema: {
        summary: "The tenant's faxes, newest first",
        description:
          '`status` takes a comma-separated list; `metadataKey` alone matches faxes having the key, with `metadataValue` that value; `createdFrom` is inclusive, `createdTo` exclusive.',
        tags: ['faxes'],
        querystring: jsonSchemaOf(listQuerySchema),
        response: { 200: pageOf('V1Fax'), ...errorResponses() },
      },
    },
    async (request): Promise<V1Page<V1Fax>> => {
      const tenantId = tenantOf(request).id;
      const q = parseWith(listQuerySchema, request.query, 'query');
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, ['createdUs', 'id']);
      let recipient = q.recipient;
      if (recipient !== undefined) {
        try {
          recipient = normalizeFaxNumber(recipient, opts.defaultRegion, { allowPremiumRate: true });
        } catch {
          // Not a number we can read: match it as given (it then matches nothing, or a raw recipient).
        }
      }
      const page = await listV1JobIds(
        db,
        tenantId,
        {
          ...(q.status && { statuses: q.status }),
          ...(recipient !== undefined && { recipient }),
          ...(q.createdFrom && { createdFrom: new Date(q.createdFrom) }),
          ...(q.createdTo && { createdTo: new Date(q.createdTo) }),
          ...(q.metadataKey !== undefined && { metadataKey: q.metadataKey }),
          ...(q.metadataValue !== undefined && { metadataValue: q.metadataValue }),
        },
        { limit: q.limit ?? 25, ...(after && { after: { createdUs: after.createdUs, id: after.id } }) },
      );
      const data = (await findV1Jobs(db, tenantId, page.ids)).map(({ record, attempts }) =>
        toV1Fax(record, attempts),
      );
      return { data, nextCursor: page.next ? encodeCursor({ ...page.next }) : null };
    },
  );

  function tooLate(reason: string, what: string): ApiError {
    return new ApiError(
      409,
      'TOO_LATE',
      `The fax cannot be ${what} any more: ${reason.replace(/\.$/, '')}.`,
      {},
      { reason },
    );
  }

  app.post(
    '/faxes/:id/cancel',
    {
      schema: {
        summary: 'Cancel a fax that has not been transmitted',
        tags: ['faxes'],
        params: idParams,
        response: {
          200: {
            type: 'object',
            properties: { outcome: { type: 'string', const: 'canceled' }, fax: { $ref: 'V1Fax#' } },
          },
          ...errorResponses(404, 409),
        },
      },
    },
    async (request, reply: FastifyReply) => {
      const { id } = parseWith(jobIdParams, request.params, 'path');
      const record = await loadRecord(request, id);
      const status = record.job?.status;
      if (record.job?.completed_at || (status && isFinalStatus(status as FaxJobStatus))) {
        throw tooLate(`it has already finished as ${status}`, 'canceled');
      }
      const workflowId = record.job?.workflow_id ?? record.submission!.workflow_id;
      const result = await control.cancel(workflowId);
      if (!result.canceled) throw tooLate(result.reason, 'canceled');
      return reply.code(200).send({
        outcome: 'canceled',
        fax: await viewOf((await findV1Job(db, record.tenantId, id)) ?? record),
      });
    },
  );

  app.post(
    '/faxes/:id/reschedule',
    {
      schema: {
        summary: 'Move the send time of a fax that has not been transmitted',
        tags: ['faxes'],
        params: idParams,
        body: jsonSchemaOf(rescheduleSchema),
        response: {
          200: {
            type: 'object',
            properties: {
              outcome: { type: 'string', const: 'rescheduled' },
              sendAt: { type: 'string' },
              fax: { $ref: 'V1Fax#' },
            },
          },
          ...errorResponses(404, 409),
        },
      },
    },
    async (request, reply: FastifyReply) => {
      const { id } = parseWith(jobIdParams, request.params, 'path');
      const body = parseWith(rescheduleSchema, request.body, 'request body');
      const problem = sendAtProblem(body.sendAt, Date.now());
      if (problem) throw new ApiError(400, 'INVALID_SEND_AT', problem, {}, { field: 'sendAt' });
      const record = await loadRecord(request, id);
      const status = record.job?.status;
      if (record.job?.completed_at || (status && isFinalStatus(status as FaxJobStatus))) {
        throw tooLate(`it has already finished as ${status}`, 'rescheduled');
      }
      const workflowId = record.job?.workflow_id ?? record.submission!.workflow_id;
      const result = await control.reschedule(workflowId, new Date(body.sendAt).toISOString());
      if (!result.rescheduled) throw tooLate(result.reason, 'rescheduled');
      return reply.code(200).send({
        outcome: 'rescheduled',
        sendAt: result.sendAt,
        fax: await viewOf((await findV1Job(db, record.tenantId, id)) ?? record),
      });
    },
  );

  app.get(
    '/faxes/:id/events',
    {
      schema: {
        summary: "A fax's status observations, oldest first",
        tags: ['faxes'],
        params: idParams,
        querystring: jsonSchemaOf(eventsQuerySchema),
        response: { 200: pageOf('V1FaxEvent'), ...errorResponses(404) },
      },
    },
    async (request) => {
      const { id } = parseWith(jobIdParams, request.params, 'path');
      const q = parseWith(eventsQuerySchema, request.query, 'query');
      const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, ['afterId']);
      const afterId = after === undefined ? undefined : Number(after.afterId);
      if (afterId !== undefined && !Number.isSafeInteger(afterId)) {
        throw new ApiError(
          400,
          'INVALID_CURSOR',
          'The cursor is not one this API returned; start again without it.',
        );
      }
      const record = await loadRecord(request, id);
      const limit = q.limit ?? 100;
      const events = await listV1Events(db, record, {
        limit: limit + 1,
        ...(afterId !== undefined && { afterId }),
      });
      const data = events.slice(0, limit).map(toV1Event);
      const last = data.at(-1);
      return {
        data,
        nextCursor: events.length > limit && last ? encodeCursor({ afterId: String(last.id) }) : null,
      };
    },
  );

  app.get(
    '/broadcasts/:id',
    {
      schema: {
        summary: 'A broadcast: every recipient and its outcome',
        tags: ['broadcasts'],
        params: idParams,
        response: { 200: { $ref: 'V1Broadcast#' }, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { id } = parseWith(jobIdParams, request.params, 'path');
      return broadcastView(tenantOf(request).id, id);
    },
  );

  // Referenced so that the schema module keeps them together with the routes that use them.
  void broadcastSchema;
};
