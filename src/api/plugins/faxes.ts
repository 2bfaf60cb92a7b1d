import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { FaxClient, StartFaxRequest } from '../../client/fax-client';
import { ApiError, describeZodError, quote, singleHeader } from '../errors';
import { FAX_JOB_ID_PATTERN } from '../../contracts/workflow-ids';
import { faxSendOptions } from '../../contracts/fax-send-options';

export type FaxApiClient = Pick<FaxClient, 'startFax' | 'getFax'>;

export interface FaxRoutesOptions {
  faxClient: FaxApiClient;
  /** Largest accepted JSON body; default 70 MiB (base64 inflates the 50 MB document limit by 4/3). */
  bodyLimit?: number;
}

export const DEFAULT_FAX_BODY_LIMIT = 70 * 1024 * 1024;

/** Same rule as the fax client's job ids (they are idempotency keys). */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

const documentSchema = z.strictObject({
  filename: z.string().min(1).max(255),
  contentBase64: z.string().min(1),
});

/** `POST /faxes` body. Content checks (number, document types, sizes) are the fax client's: 422. */
export const startFaxBodySchema = z.strictObject({
  to: z.string().min(1).max(64),
  recipientName: z.string().min(1).max(128).optional(),
  documents: z.array(documentSchema).min(1).max(50),
  idempotencyKey: z.string().min(1).max(128).optional(),
  sendAt: z.string().min(1).max(64).optional(),
  tenantId: z.string().min(1).max(128).optional(),
  coverPageText: z.string().max(1024).optional(),
  coverIndex: z.number().int().min(0).max(13).optional(),
  faxResolution: z.enum(['High', 'Low']).optional(),
  schedule: z.enum(['timer', 'ringcentral']).optional(),
  coverPage: z
    .strictObject({
      from: z.string().max(256).optional(),
      note: z.string().max(1024).optional(),
      confidential: z.boolean().optional(),
    })
    .optional(),
});

export type StartFaxBody = z.infer<typeof startFaxBodySchema>;

function badRequest(message: string): ApiError {
  return new ApiError(400, 'INVALID_REQUEST', message);
}

function decodeBase64(value: string, field: string): Uint8Array {
  const compact = /\s/.test(value) ? value.replace(/\s+/g, '') : value;
  if (!BASE64.test(compact) || compact.length % 4 === 1) {
    throw badRequest(`The field "${field}" is not valid base64; encode the document's bytes with base64.`);
  }
  return Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
}

/**
 * `POST /faxes` submits one fax (JSON with base64 documents), `GET /faxes/:jobId` reads its state.
 * Encapsulated: only JSON bodies are parsed here (text/plain is refused with 415).
 */
export const faxRoutes: FastifyPluginAsync<FaxRoutesOptions> = async (app, opts) => {
  const { faxClient } = opts;
  const bodyLimit = opts.bodyLimit ?? DEFAULT_FAX_BODY_LIMIT;
  app.removeContentTypeParser('text/plain');

  app.post('/faxes', { bodyLimit }, async (request, reply) => {
    const parsed = startFaxBodySchema.safeParse(request.body);
    if (!parsed.success) throw badRequest(describeZodError(parsed.error, request.body));
    const body = parsed.data;

    const headerKey = singleHeader(request.headers['idempotency-key']);
    if (headerKey !== undefined && body.idempotencyKey !== undefined && headerKey !== body.idempotencyKey) {
      throw badRequest(
        'The Idempotency-Key header and the idempotencyKey field differ; send one of them, or the same value in both.',
      );
    }
    const idempotencyKey = headerKey ?? body.idempotencyKey;

    const documents = body.documents.map((d, i) => ({
      filename: d.filename,
      bytes: decodeBase64(d.contentBase64, `documents[${i}].contentBase64`),
    }));
    const startRequest: StartFaxRequest = {
      to: body.to,
      documents,
      ...(idempotencyKey !== undefined && { idempotencyKey }),
      ...(body.recipientName !== undefined && { recipientName: body.recipientName }),
      ...(body.sendAt !== undefined && { sendAt: body.sendAt }),
      ...(body.tenantId !== undefined && { tenantId: body.tenantId }),
      ...(body.schedule !== undefined && { schedule: body.schedule }),
      ...(body.coverPage !== undefined && {
        coverPage: {
          ...(body.coverPage.from !== undefined && { from: body.coverPage.from }),
          ...(body.coverPage.note !== undefined && { note: body.coverPage.note }),
          ...(body.coverPage.confidential !== undefined && { confidential: body.coverPage.confidential }),
        },
      }),
      ...faxSendOptions(body),
    };
    // FaxValidationError (bad number, document, key...) becomes 422 in the error handler.
    const started = await faxClient.startFax(startRequest);
    request.log.info({ jobId: started.jobId, started: started.started }, 'fax submitted');
    return reply
      .code(started.started ? 202 : 200)
      .send({ jobId: started.jobId, workflowId: started.workflowId, started: started.started });
  });

  app.get<{ Params: { jobId: string } }>('/faxes/:jobId', async (request, reply) => {
    const { jobId } = request.params;
    if (!FAX_JOB_ID_PATTERN.test(jobId)) {
      throw badRequest(
        `The job id ${quote(jobId)} is malformed; job ids are 1 to 128 letters, digits, '.', '_', ':' or '-' (a broadcast recipient's adds '~' and its number).`,
      );
    }
    const fax = await faxClient.getFax(jobId);
    if (!fax) throw new ApiError(404, 'NOT_FOUND', `There is no fax job with id ${quote(jobId)}.`);
    return reply.code(200).send(fax.result === undefined ? { state: fax.state } : fax);
  });
};
