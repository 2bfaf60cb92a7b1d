import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { recordValidation, registerFaxJob, updateFaxJobStatus } from '../db/fax-jobs';
import { insertFaxEvent } from '../db/fax-events';
import { DocumentNotFoundError, type DocumentRef } from '../storage/document-store';
import { sendAtProblem } from '../domain/send-time';
import { makeCoverPage } from '../pdf/cover-page';
import { inspectDocumentSet } from '../validation/inspect-document-set';
import { MAX_COVER_PAGE_TEXT } from '../validation/limits';
import { parseFaxNumber, premiumRateAllowed } from '../validation/phone-number';
import { FaxValidationError, type ValidationCode } from '../validation/validation-error';
import type { FaxWorkflowInput } from '../contracts/workflow-types';
import { DEFAULT_TENANT_ID } from '../domain/tenant-id';
import { connectionKey } from './connection';
import type { ActivityDeps } from './deps';
import { beat } from './liveness';

export type PrepareFaxJobArgs = Omit<FaxWorkflowInput, 'resume'> & {
  /** The job's workflow id, which is also its row id; `jobId` is its key within the tenant. */
  workflowId: string;
  /** When the workflow started (ISO): the cover page's date and the reference for `sendAt`. */
  submittedAt: string;
};

export type PrepareFaxJobResult =
  | { ok: true; recipient: string; documents: DocumentRef[]; pages: number; totalBytes: number }
  | { ok: false; code: ValidationCode; message: string };

/**
 * Registers the job row and validates the request against RingCentral's rules, so nothing that
 * RingCentral would refuse spends a send from the rate-limited Heavy budget. Idempotent: a retry
 * re-reads the same bytes and writes the same row. A rejection is final and recorded as `Rejected`.
 */
export function createPrepareFaxJob(deps: ActivityDeps) {
  const { db, documents: store, defaultRegion, premiumRateTenants = [], logger } = deps;
  return async function prepareFaxJob(input: PrepareFaxJobArgs): Promise<PrepareFaxJobResult> {
    // Rows are keyed by workflow id (see job-row.ts); the tenant's key is `job_key`.
    const jobId = input.workflowId;
    const args = { ...input, jobId };
    const connection = connectionKey(deps, input.connectionId);
    const fingerprint = createHash('sha256')
      .update(args.documents.map((d) => d.sha256).join(','))
      .digest('hex');
    // prepareFaxJob runs in a job's first run only (a continued run resumes past it).
    const runId = Context.current().info.workflowExecution?.runId ?? null;
    const row = await registerFaxJob(db, {
      id: jobId,
      job_key: input.jobId,
      workflow_id: args.workflowId,
      workflow_run_id: runId,
      tenant_id: args.tenantId ?? DEFAULT_TENANT_ID,
      connection_id: connection,
      recipient: args.to,
      documents: JSON.stringify(args.documents),
      sha256: fingerprint,
      size_bytes: args.documents.reduce((n, d) => n + d.size, 0),
      pages: null,
      status: 'Accepted',
      message_id: null,
      send_at: args.sendAt ?? null,
      error_code: null,
      error_message: null,
      completed_at: null,
    });
    if (!row) {
      // Another workflow holds this tenant's key (a job from before tenants, under its old id).
      return {
        ok: false,
        code: 'INVALID_REQUEST',
        message: `The job id ${JSON.stringify(input.jobId)} is already used by another job of this tenant; submit this fax with another idempotency key.`,
      };
    }
    if (row.completed_at && row.workflow_run_id !== runId) {
      // The id names a job another run already finished: never reopen its row or adopt its message.
      return {
        ok: false,
        code: 'INVALID_REQUEST',
        message: `The job id ${JSON.stringify(input.jobId)} belongs to a job that has already finished; submit this fax with another idempotency key.`,
      };
    }
    if (deps.ensureConnectionUpkeep) {
      // Its subscription keeper must run for webhooks to reach its jobs; the upkeep is idempotent.
      const { client, info } = Context.current();
      await deps.ensureConnectionUpkeep(connection, client, info.taskQueue).catch((err: unknown) => {
        logger.warn(
          { err, connectionId: connection },
          'could not start the connection’s subscription keeper',
        );
      });
    }

    try {
      const { readAsNationalIn, ...result } = await validate(args);
      await recordValidation(db, args.jobId, result, {
        pages: result.pages,
        totalBytes: result.totalBytes,
        // A number given without a country code was read in the default region: say so.
        ...(readAsNationalIn && {
          number: { given: args.to, e164: result.recipient, readAsNationalIn },
        }),
      });
      return result;
    } catch (err) {
      if (!(err instanceof FaxValidationError)) throw err;
      await db.transaction().execute(async (trx) => {
        await updateFaxJobStatus(trx, args.jobId, {
          status: 'Rejected',
          errorCode: err.code,
          errorMessage: err.message,
        });
        await insertFaxEvent(trx, {
          jobId: args.jobId,
          status: 'Rejected',
          source: 'validation',
          detail: { code: err.code, message: err.message },
        });
      });
      return { ok: false, code: err.code, message: err.message };
    }
  };

  async function validate(
    args: PrepareFaxJobArgs,
  ): Promise<Extract<PrepareFaxJobResult, { ok: true }> & { readAsNationalIn?: string }> {
    const { e164: recipient, readAsNationalIn } = parseFaxNumber(args.to, defaultRegion, {
      allowPremiumRate: premiumRateAllowed(premiumRateTenants, args.tenantId),
    });
    const sendAtIssue =
      args.sendAt === undefined ? undefined : sendAtProblem(args.sendAt, Date.parse(args.submittedAt));
    if (sendAtIssue) throw new FaxValidationError('INVALID_REQUEST', sendAtIssue);
    if (args.coverPage?.note !== undefined && args.coverPage.note.length > MAX_COVER_PAGE_TEXT) {
      throw new FaxValidationError(
        'INVALID_REQUEST',
        `The cover page note has ${args.coverPage.note.length} characters; at most ${MAX_COVER_PAGE_TEXT} are allowed.`,
      );
    }
    if (args.coverPageText !== undefined && args.coverPageText.length > MAX_COVER_PAGE_TEXT) {
      throw new FaxValidationError(
        'INVALID_REQUEST',
        `The cover page text has ${args.coverPageText.length} characters; at most ${MAX_COVER_PAGE_TEXT} are allowed.`,
      );
    }
    const loaded = [];
    for (const ref of args.documents) {
      beat();
      try {
        loaded.push({ bytes: await store.get(ref.sha256), name: ref.filename });
      } catch (err) {
        if (err instanceof DocumentNotFoundError) {
          throw new FaxValidationError(
            'DOCUMENT_MISSING',
            `${ref.filename} is not in the document store; upload it again.`,
          );
        }
        throw err;
      }
    }
    beat();
    const inspected = await inspectDocumentSet(loaded);
    beat();
    const documents = args.documents.map((ref, i) => ({
      ...ref,
      filename: inspected.documents[i]!.filename,
      contentType: inspected.documents[i]!.contentType,
    }));
    const national = readAsNationalIn !== undefined ? { readAsNationalIn } : {};
    if (!args.coverPage) {
      return {
        ok: true,
        recipient,
        documents,
        pages: inspected.pages,
        totalBytes: inspected.totalBytes,
        ...national,
      };
    }
    const cover = await makeCoverPage({
      to: recipient,
      ...(args.recipientName && { toName: args.recipientName }),
      ...(args.coverPage.from && { from: args.coverPage.from }),
      ...(args.coverPage.note && { note: args.coverPage.note }),
      ...(args.coverPage.confidential && { confidential: true }),
      pages: inspected.pages,
      date: args.submittedAt,
    });
    const coverRef = await store.put(cover, { filename: 'cover.pdf', contentType: 'application/pdf' });
    return {
      ok: true,
      recipient,
      documents: [coverRef, ...documents],
      pages: inspected.pages + 1,
      totalBytes: inspected.totalBytes + coverRef.size,
      ...national,
    };
  }
}
