import { createCancelScheduledFax } from './cancel-scheduled-fax';
import { createCheckConnection } from './check-connection';
import { createEnsureSubscription } from './ensure-subscription';
import { createReconcileFaxStatuses } from './reconcile-fax-statuses';
import { createCheckFaxStatus } from './check-fax-status';
import type { ActivityDeps } from './deps';
import { createPrepareFaxJob } from './prepare-fax-job';
import { createReadFaxStatus } from './read-fax-status';
import { createRecordFaxObservation } from './record-fax-observation';
import { createRecordJobStatus } from './record-job-status';
import { createSendFax } from './send-fax';
import { withLiveness } from './liveness';
import { createDeliverWebhook } from './deliver-webhook';
import { createRecordBroadcastCompleted } from './record-broadcast-completed';

/**
 * All activities, bound to their dependencies. Workflows import only the *type* of this object;
 * the worker registers the functions.
 */
export function createActivities(deps: ActivityDeps) {
  return alive({
    prepareFaxJob: createPrepareFaxJob(deps),
    sendFax: createSendFax(deps),
    readFaxStatus: createReadFaxStatus(deps),
    recordFaxObservation: createRecordFaxObservation(deps),
    /** Read and record in one, for FaxWorkflow runs started before readFaxStatus existed. */
    checkFaxStatus: createCheckFaxStatus(deps),
    recordJobStatus: createRecordJobStatus(deps),
    cancelScheduledFax: createCancelScheduledFax(deps),
    ensureSubscription: createEnsureSubscription(deps),
    reconcileFaxStatuses: createReconcileFaxStatuses(deps),
    /** Signed event webhooks to upstream (src/events). */
    deliverWebhook: createDeliverWebhook(deps),
    recordBroadcastCompleted: createRecordBroadcastCompleted(deps),
    checkConnection: createCheckConnection(deps),
  });
}

/** Every activity heartbeats while it runs: a worker that dies mid-activity is noticed in seconds. */
function alive<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      withLiveness(fn as (...args: unknown[]) => Promise<unknown>),
    ]),
  ) as unknown as T;
}

export type FaxActivities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps';
