import { insertFaxEvent } from '../db/fax-events';
import { updateFaxJobStatus, type FaxJobStatusChange } from '../db/fax-jobs';
import { recordJobDecision } from '../db/status-writes';
import type { FaxJobStatus } from '../domain/fax-status';
import type { ActivityDeps } from './deps';
import { jobRowId } from './job-row';

export interface RecordJobStatusArgs {
  /** The job's row id: its workflow id (see job-row.ts). */
  jobId: string;
  status: FaxJobStatus;
  attempts?: number;
  messageId?: string;
  /** null clears the job's error (e.g. once its connection is back). */
  errorCode?: string | null;
  errorMessage?: string | null;
  note?: string;
  /** The workflow's final word (needed for `Sent`, which is final only on some accounts). */
  final?: boolean;
}

/**
 * Records a decision of the workflow about the whole job (scheduled, redialling, delivered,
 * failed, ...). A final status is written once; later calls for a finished job change nothing.
 */
export function createRecordJobStatus({ db }: ActivityDeps) {
  return async function recordJobStatus(args: RecordJobStatusArgs): Promise<void> {
    const jobId = jobRowId(args.jobId);
    const change: FaxJobStatusChange = {
      status: args.status,
      ...(args.attempts !== undefined && { attempts: args.attempts }),
      ...(args.messageId !== undefined && { messageId: args.messageId }),
      ...(args.errorCode !== undefined && { errorCode: args.errorCode }),
      ...(args.errorMessage !== undefined && { errorMessage: args.errorMessage }),
      ...(args.final && { final: true }),
    };
    const detail =
      args.errorCode || args.note
        ? { errorCode: args.errorCode, errorMessage: args.errorMessage, note: args.note }
        : null;
    // One statement (status-writes.ts); a tenant with webhook endpoints takes the transaction below.
    if (await recordJobDecision(db, jobId, change, detail)) return;
    await db.transaction().execute(async (trx) => {
      const changed = await updateFaxJobStatus(trx, jobId, change);
      if (changed) {
        await insertFaxEvent(trx, {
          jobId,
          messageId: args.messageId ?? null,
          status: args.status,
          source: 'workflow',
          detail,
        });
      }
    });
  };
}
