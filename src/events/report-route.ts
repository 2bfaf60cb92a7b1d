import type { FastifyInstance, FastifyPluginAsync, FastifySchema } from 'fastify';
import type { Kysely } from 'kysely';
import { findTenantFaxJob, listJobAttempts } from '../db/event-job-reads';
import type { Database } from '../db/schema';
import { renderTransmissionReport } from '../reports/transmission-report';
import type { DocumentStore } from '../storage/document-store';
import { toV1Fax } from './fax-view';
import { requireTenant, sendV1Error } from './tenant-of';

export interface ReportRouteOptions {
  db: Kysely<Database>;
  /** Where the job's documents are: page 1 of a PDF source becomes the report's thumbnail. */
  documents: DocumentStore;
}

/** Job ids as the v1 API accepts them (contracts/workflow-ids.ts FAX_JOB_ID_PATTERN, with the `~<n>` suffix). */
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}(?:~[1-9][0-9]{0,3})?$/;

/**
 * `GET /v1/faxes/:id/report.pdf`: the transmission report (reports/transmission-report.ts) of one
 * of the tenant's faxes; another tenant's fax is a 404 like one that does not exist. A standalone
 * plugin registered by the /v1 app behind its authentication.
 */
export const reportRoute: FastifyPluginAsync<ReportRouteOptions> = async (app: FastifyInstance, opts) => {
  app.get(
    '/faxes/:id/report.pdf',
    {
      schema: {
        tags: ['faxes'],
        summary: 'Transmission report (PDF): recipient, pages, attempts, final status, SHA-256, page 1',
        produces: ['application/pdf'],
      } as FastifySchema,
    },
    async (request, reply) => {
      const tenantId = requireTenant(request, reply);
      if (tenantId === undefined) return reply;
      const { id } = request.params as { id: string };
      const job = JOB_ID.test(id) ? await findTenantFaxJob(opts.db, tenantId, id) : undefined;
      if (!job)
        return sendV1Error(
          reply,
          404,
          'FAX_NOT_FOUND',
          `There is no fax ${JSON.stringify(id.slice(0, 140))}.`,
        );
      const fax = toV1Fax(job, await listJobAttempts(opts.db, job.id));
      const first = job.documents[0];
      let firstPdf: Uint8Array | undefined;
      if (first?.contentType === 'application/pdf') {
        firstPdf = await opts.documents.get(first.sha256).catch(() => undefined);
      }
      const pdf = await renderTransmissionReport({
        fax,
        ...(job.sha256 && { documentSetSha256: job.sha256 }),
        ...(firstPdf && { firstPdf }),
      });
      return reply
        .header('content-type', 'application/pdf')
        .header(
          'content-disposition',
          `attachment; filename="fax-${fax.id.replace(/[^A-Za-z0-9._-]/g, '_')}-report.pdf"`,
        )
        .header('cache-control', fax.final ? 'private, max-age=3600' : 'no-store')
        .send(Buffer.from(pdf));
    },
  );
};
