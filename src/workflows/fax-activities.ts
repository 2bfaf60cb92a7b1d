import { proxyActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { FaxActivities } from '../activities';
import { sendTaskQueue } from '../contracts/task-queues';
import type { FaxPolicy } from '../contracts/workflow-types';

// Activity proxies grouped by timeout profile. Retries are Temporal's: an activity that fails on a
// transient fault is retried with backoff (or at the delay it asked for), and the workflow only
// sees the final outcome.

/** Database bookkeeping and RingCentral reads: short, retried until they succeed. */
export const BOOKKEEPING: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute' },
};
export const bookkeeping = proxyActivities<FaxActivities>(BOOKKEEPING);

/** Validation reads up to 50 MB and parses PDFs. */
export const validation = proxyActivities<FaxActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', maximumInterval: '1 minute' },
});

/** Sends run on their own task queue; their first retry comes from the job's policy. */
export function sendActivityOptions(policy: FaxPolicy): ActivityOptions {
  return {
    taskQueue: sendTaskQueue(workflowInfo().taskQueue),
    // Covers the upload of up to 50 MB; past it the send is ambiguous and the retry looks before it sends.
    startToCloseTimeout: '3 minutes',
    retry: {
      initialInterval: policy.sendRetryInitialMs,
      backoffCoefficient: 2,
      maximumInterval: '5 minutes',
      nonRetryableErrorTypes: ['RingCentralRejected'],
    },
  };
}
