import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { FAX_SEARCH_ATTRIBUTES } from '../../src/contracts/search-attributes';
import { resolveTestServer } from '../../src/stack/temporal-binary';
import { installTemporalRuntime } from '../../src/workers/runtime';
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

/**
 * The Java time-skipping test server with FaxWorkflow's search attributes registered (the test
 * server knows no custom attributes until told; the workflow upserts these).
 */
export async function startTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installTemporalRuntime('WARN');
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: resolveTestServer(process.env.TEMPORAL_TEST_SERVER_PATH) },
  });
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await env.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: Object.fromEntries(FAX_SEARCH_ATTRIBUTES.map((k) => [k.name, keyword])),
  });
  return env;
}
