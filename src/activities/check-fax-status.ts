import type { FaxStatusObservation } from '../contracts/workflow-types';
import type { ActivityDeps } from './deps';
import { createReadFaxStatus, type FaxMessageRef } from './read-fax-status';
import { createRecordFaxObservation } from './record-fax-observation';

export type CheckFaxStatusArgs = FaxMessageRef;

/**
 * Read and record in one: what FaxWorkflow runs started before the `workflow-records-polls` patch
 * schedule when they poll, so it stays registered for them. Newer runs read with `readFaxStatus`
 * and record with `recordFaxObservation`, the same path a webhook's status takes.
 */
export function createCheckFaxStatus(deps: ActivityDeps) {
  const readFaxStatus = createReadFaxStatus(deps);
  const recordFaxObservation = createRecordFaxObservation(deps);
  return async function checkFaxStatus(args: CheckFaxStatusArgs): Promise<FaxStatusObservation> {
    const { webhooksHealthy, ...observation } = await readFaxStatus(args);
    await recordFaxObservation({ ...args, observation, source: 'poll' });
    return { ...observation, ...(webhooksHealthy !== undefined && { webhooksHealthy }) };
  };
}
