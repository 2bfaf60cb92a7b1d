import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { sendTaskQueue } from '../../src/contracts/task-queues';
import type { FaxWorkflowInput } from '../../src/contracts/workflow-types';
import type { fakeActivities } from './fake-activities';
import { HISTORIES_DIR } from '../support/test-stack';

export const DOC = { sha256: 'a'.repeat(64), size: 100, filename: 'a.pdf', contentType: 'application/pdf' };

/** Runs `fn` with FaxWorkflow's two workers (bookkeeping and send queues) on fake activities. */
export async function withFakeWorkers<T>(
  env: TestWorkflowEnvironment,
  fake: ReturnType<typeof fakeActivities>,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = `tq-${randomUUID()}`;
  const { sendFax, ...light } = fake.activities;
  const main = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { code: inject('workflowCode') },
    activities: light,
  });
  const send = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: sendTaskQueue(taskQueue),
    activities: { sendFax },
  });
  return send.runUntil(() => main.runUntil(fn(taskQueue)));
}

/** Starts a FaxWorkflow with a fresh job id, one document and `input` on top. */
export function startFaxWorkflow(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  input: Partial<FaxWorkflowInput> = {},
) {
  const jobId = randomUUID();
  return env.client.workflow.start('FaxWorkflow', {
    taskQueue,
    workflowId: `fax-${jobId}`,
    args: [{ jobId, to: '+12025550123', documents: [DOC], ...input }],
  });
}

/** Saves a finished workflow's history under test/histories/ when FAXFLOW_RECORD_HISTORIES=1. */
export async function maybeRecordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.FAXFLOW_RECORD_HISTORIES !== '1') return;
  await writeFile(path.join(HISTORIES_DIR, `${name}.json`), historyToJSON(await handle.fetchHistory()));
}
