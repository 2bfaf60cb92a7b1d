import { fileURLToPath } from 'node:url';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { FaxActivities } from '../activities';
import { sendTaskQueue } from '../contracts/task-queues';
import { prebuiltWorkflowBundle } from './workflow-bundle';

// Compiled (dist/), this module is .js and so are the workflows beside it.
export const WORKFLOWS_PATH = fileURLToPath(
  new URL(`../workflows/index${import.meta.url.endsWith('.js') ? '.js' : '.ts'}`, import.meta.url),
);

export interface FaxWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: FaxActivities;
  /** Concurrent sends per process: each holds up to 50 MB of documents in memory. */
  maxConcurrentSends?: number;
  /** Sticky cache size of the workflow worker; smaller than the jobs in flight means replays on wake-up. */
  maxCachedWorkflows?: number;
  /**
   * Pre-built workflow bundle (tests build it once). Default: the production build's bundle when
   * running compiled, else the workflows are bundled from source at start-up.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/**
 * Two workers in one process: the main task queue runs workflows and the light activities; the
 * send queue runs only `sendFax`, so large uploads never starve bookkeeping of activity slots.
 * RingCentral's rate limits are enforced by the shared budgets in Postgres (see rate-limiter.ts).
 */
export async function createFaxWorkers(opts: FaxWorkersOptions): Promise<Worker[]> {
  const { connection, namespace, taskQueue, activities } = opts;
  const { sendFax, ...light } = activities;
  const workflowBundle = opts.workflowBundle ?? prebuiltWorkflowBundle();
  const main = await Worker.create({
    connection,
    namespace,
    taskQueue,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: light,
    ...(opts.maxCachedWorkflows !== undefined && { maxCachedWorkflows: opts.maxCachedWorkflows }),
  });
  const send = await Worker.create({
    connection,
    namespace,
    taskQueue: sendTaskQueue(taskQueue),
    activities: { sendFax },
    maxConcurrentActivityTaskExecutions: opts.maxConcurrentSends ?? 4,
  });
  return [main, send];
}

/** Runs the workers until `shutdown()` is called on each (or a signal the Runtime handles). */
export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.run()));
}
