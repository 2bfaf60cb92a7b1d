import { insertFaxEvent } from '../db/fax-events';
import { updateFaxJobStatus } from '../db/fax-jobs';
import type { FaxJobStatus } from '../domain/fax-status';
import type { ActivityDeps } from './deps';

export interface RecordJobStatusArgs {
  jobId: string;
  status: FaxJobStatus;
  attempts?: number;
  messageId?: string;
  errorCode?: string;
  errorMessage?: string;
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
    await db.transaction().execute(async (trx) => {
      const changed = await updateFaxJobStatus(trx, args.jobId, {
        status: args.status,
        ...(args.attempts !== undefined && { attempts: args.attempts }),
        ...(args.messageId !== undefined && { messageId: args.messageId }),
        ...(args.errorCode !== undefined && { errorCode: args.errorCode }),
        ...(args.errorMessage !== undefined && { errorMessage: args.errorMessage }),
        ...(args.final && { final: true }),
      });
      if (changed) {
        await insertFaxEvent(trx, {
          jobId: args.jobId,
          messageId: args.messageId ?? null,
          status: args.status,
          source: 'workflow',
          detail:
            args.errorCode || args.note
              ? { errorCode: args.errorCode, errorMessage: args.errorMessage, note: args.note }
              : null,
        });
      }
    });
  };
}
