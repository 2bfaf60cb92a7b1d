/**
 * Sends run on their own task queue, beside the main one, so large uploads do not hold the
 * bookkeeping queue's activity slots. The main queue's name is configuration (TEMPORAL_TASK_QUEUE).
 */
const SEND_TASK_QUEUE_SUFFIX = '-send';

/** The queue `sendFax` runs on, for a given main task queue. */
export function sendTaskQueue(mainTaskQueue: string): string {
  return `${mainTaskQueue}${SEND_TASK_QUEUE_SUFFIX}`;
}
