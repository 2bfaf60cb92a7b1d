import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type {} from '@fastify/multipart';
import type { Db } from '../../db/schema';
import { insertV1Document } from '../../db/v1-documents';
import { MAX_TOTAL_BYTES } from '../../validation/limits';
import { ApiError, quote } from '../errors';
import { tenantOf } from './auth';
import { DocumentStager } from './document-stager';
import { FORM_OVERHEAD_BYTES, refuseDeclaredOversize } from './faxes';
import { errorResponses } from './schemas';

export interface V1DocumentRoutesOptions {
  db: Db;
  documentsRoot: string;
}

/**
 * `POST /v1/documents`: one file (multipart part `file`), streamed into the document store; its id
 * goes into a later fax's `documentIds`, so that one upload serves many faxes.
 */
export const v1DocumentRoutes: FastifyPluginAsync<V1DocumentRoutesOptions> = async (app, opts) => {
  app.post(
    '/documents',
    {
      onRequest: async (request) => refuseDeclaredOversize(request, MAX_TOTAL_BYTES + FORM_OVERHEAD_BYTES),
      schema: {
        summary: 'Upload a document once, for later faxes (`documentIds`)',
        description:
          'multipart/form-data with one file part named `file` (at most 50 MB; PDF, TIFF, PNG, JPEG, GIF, BMP or plain text).',
        tags: ['documents'],
        consumes: ['multipart/form-data'],
        response: { 201: { $ref: 'V1Document#' }, ...errorResponses(413, 415, 422) },
      },
    },
    async (request, reply) => {
      const tenant = tenantOf(request);
      if (!request.isMultipart()) {
        throw new ApiError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          'Upload documents as multipart/form-data with one part named "file".',
        );
      }
      const stager = new DocumentStager(opts.documentsRoot);
      try {
        let seen = false;
        try {
          for await (const part of request.parts()) {
            if (part.type !== 'file' || part.fieldname !== 'file' || seen) {
              throw new ApiError(
                400,
                'INVALID_REQUEST',
                `The form part ${quote(part.fieldname)} is not allowed; send exactly one file part named "file".`,
                {},
                { field: part.fieldname },
              );
            }
            seen = true;
            await stager.stage(part.file, part.filename);
          }
        } catch (err) {
          if (err instanceof Error && typeof (err as { statusCode?: unknown }).statusCode === 'number')
            throw err;
          if (err instanceof ApiError || (err as { name?: string }).name === 'FaxValidationError') throw err;
          throw new ApiError(
            400,
            'INVALID_MULTIPART',
            'The multipart body is malformed or ended early; send a complete multipart/form-data body.',
          );
        }
        if (!seen)
          throw new ApiError(
            400,
            'INVALID_REQUEST',
            'The form has no file; send one file part named "file".',
          );
        const [ref] = await stager.commit();
        const id = `doc_${randomBytes(12).toString('hex')}`;
        const createdAt = await insertV1Document(opts.db, tenant.id, id, ref!);
        return await reply.code(201).send({
          object: 'document',
          id,
          filename: ref!.filename,
          contentType: ref!.contentType,
          sizeBytes: ref!.size,
          sha256: ref!.sha256,
          createdAt: createdAt.toISOString(),
        });
      } finally {
        await stager.discard();
      }
    },
  );
};
