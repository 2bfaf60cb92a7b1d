import { proxyActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { FaxActivities } from '../activities';
import { sendTaskQueue } from '../contracts/task-queues';
import type { FaxPolicy } from '../contracts/workflow-types';

// Activity proxies grouped by timeout profile. Retries are Temporal's: an activity that fails on a
// transient fault is retried with backoff (or at the delay it asked for), and the workflow only
// sees the final outcome. Every activity heartbeats while it runs (activities/liveness.ts), so a
// heartbeat timeout moves the work of a dead worker (or one Temporal lost track of across its own
// restart) to another within seconds; start-to-close only bounds a live but stuck execution.

/** Database bookkeeping and RingCentral reads: short, retried until they succeed. */
export const BOOKKEEPING: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
};
export const bookkeeping = proxyActivities<FaxActivities>(BOOKKEEPING);

/** Validation reads up to 50 MB and parses PDFs. */
export const validation = proxyActivities<FaxActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '20 seconds',
  retry: { initialInterval: '2s', maximumInterval: '1 minute' },
});

/** Sends run on their own task queue; their first retry comes from the job's policy. */
export function sendActivityOptions(policy: FaxPolicy): ActivityOptions {
  return {
    taskQueue: sendTaskQueue(workflowInfo().taskQueue),
    // Well above the Heavy slot wait (60 s) plus the request timeout (120 s) plus a listing, so
    // Temporal never retries while the first execution still uploads; a dead worker is noticed by
    // the heartbeat timeout instead, and its retry waits out the send lease (send-lease.ts).
    startToCloseTimeout: '6 minutes',
    heartbeatTimeout: '20 seconds',
    retry: {
      initialInterval: policy.sendRetryInitialMs,
      backoffCoefficient: 2,
      // Waiting for the lease or for another job's send to the same number counts as attempts too
      // (SendWaiting): a cap well below 5 minutes keeps the next real failure from a long backoff.
      maximumInterval: '1 minute',
      nonRetryableErrorTypes: ['RingCentralRejected', 'NeedsReview'],
    },
  };
}
