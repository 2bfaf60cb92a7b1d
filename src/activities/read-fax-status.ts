import type { FaxStatusObservation } from '../contracts/workflow-types';
import type { RingCentralMessageStatus } from '../domain/fax-status';
import { observeFaxMessage } from '../ringcentral/fax-observation';
import type { FaxMessage } from '../ringcentral/types';
import { connectionKey, ringCentralFor, type ConnectionArgs } from './connection';
import type { ActivityDeps } from './deps';
import { learnFromStatus, sentIsFinal } from './delivery-reports';
import { toApplicationFailure } from './failures';
import { healthy } from './webhook-health';

/** One attempt's RingCentral message, as the workflow knows it. */
export interface FaxMessageRef extends ConnectionArgs {
  /** The job's row id: its workflow id (see job-row.ts). */
  jobId: string;
  attemptNo: number;
  messageId: string;
  recipient: string;
  /** What the workflow already knows; only a forward move is recorded. */
  known?: RingCentralMessageStatus;
}

/**
 * Reads one fax's status from RingCentral's message store: the workflow records a forward move
 * with `recordFaxObservation`, exactly as it does for a webhook's. It only writes what it learns
 * about the account (a Delivered or DeliveryFailed proves the account reports delivery).
 */
export function createReadFaxStatus(deps: ActivityDeps) {
  return async function readFaxStatus(args: FaxMessageRef): Promise<FaxStatusObservation> {
    const connection = connectionKey(deps, args.connectionId);
    const ringcentral = await ringCentralFor(deps, args.connectionId);
    let message: FaxMessage;
    try {
      message = await ringcentral.getMessage(args.messageId);
    } catch (err) {
      throw toApplicationFailure(err);
    }
    const observation = observeFaxMessage(message, args.recipient);
    await learnFromStatus(deps, connection, args.messageId, observation.status);
    return {
      ...observation,
      webhooksHealthy: await healthy(deps, connection),
      ...(observation.status === 'Sent' && { sentIsFinal: await sentIsFinal(deps, connection) }),
    };
  };
}
