import type { FaxStatusObservation } from '../contracts/workflow-types';
import { advanceFaxAttempt } from '../db/fax-attempts';
import { insertFaxEvent, type FaxEventSource } from '../db/fax-events';
import { updateFaxJobStatus } from '../db/fax-jobs';
import { recordObservation } from '../db/status-writes';
import { isForwardMove, isMessageFinal } from '../domain/fax-status';
import { learnFromStatus, sentIsFinal } from './delivery-reports';
import { connectionKey } from './connection';
import type { ActivityDeps } from './deps';
import { jobRowId } from './job-row';
import type { FaxMessageRef } from './read-fax-status';

export interface RecordFaxObservationArgs extends FaxMessageRef {
  observation: FaxStatusObservation;
  source: FaxEventSource;
}

/**
 * The one write path for a status RingCentral reported, however it was seen (a poll or a webhook):
 * an event row, the attempt's status and, while the fax is in flight, the job's.
 */
/** What the workflow decides on: see FaxStatusObservation.sentIsFinal. */
export interface RecordedFaxObservation {
  sentIsFinal?: boolean;
}

export function createRecordFaxObservation(deps: ActivityDeps) {
  const { db } = deps;
  return async function recordFaxObservation(
    args: RecordFaxObservationArgs,
    // Tasks scheduled before the one-args-object form passed (ref, observation, source).
    legacyObservation?: FaxStatusObservation,
    legacySource?: FaxEventSource,
  ): Promise<RecordedFaxObservation> {
    const { observation, source } =
      legacyObservation && legacySource ? { observation: legacyObservation, source: legacySource } : args;
    const connection = connectionKey(deps, args.connectionId);
    const jobId = jobRowId(args.jobId);
    await learnFromStatus(deps, connection, args.messageId, observation.status);
    const decision =
      observation.status === 'Sent' ? { sentIsFinal: await sentIsFinal(deps, connection) } : {};
    if (!isForwardMove(args.known, observation.status)) return decision;
    // One statement (status-writes.ts); a job the tenant's webhook endpoints hear about takes the
    // transaction below when the job follows the attempt.
    const written = await recordObservation(db, {
      jobId,
      attemptNo: args.attemptNo,
      messageId: args.messageId,
      status: observation.status,
      faxErrorCode: observation.faxErrorCode ?? null,
      source,
      finished: isMessageFinal(observation.status),
      ...(observation.pages !== undefined && { pages: observation.pages }),
    });
    if (written) return decision;
    await db.transaction().execute(async (trx) => {
      await insertFaxEvent(trx, {
        jobId: jobId,
        attemptNo: args.attemptNo,
        messageId: args.messageId,
        status: observation.status,
        faxErrorCode: observation.faxErrorCode ?? null,
        source,
      });
      // The SQL guard, not `known`, is what keeps a stale execution from moving the attempt back.
      const moved = await advanceFaxAttempt(trx, jobId, args.attemptNo, args.messageId, {
        status: observation.status,
        faxErrorCode: observation.faxErrorCode ?? null,
        finished: isMessageFinal(observation.status),
      });
      // Job-level outcomes (Delivered, redial, Failed) are the workflow's decision; here the job
      // only follows the attempt while it is in flight.
      if (moved && (observation.status === 'Sent' || observation.status === 'Queued')) {
        await updateFaxJobStatus(trx, jobId, {
          status: observation.status,
          ...(observation.pages !== undefined && { pages: observation.pages }),
        });
      }
    });
    return decision;
  };
}
