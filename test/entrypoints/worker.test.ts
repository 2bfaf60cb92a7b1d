import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { afterAll, afterEach, beforeAll, expect, inject, it } from 'vitest';
import { startSimulator, type SimulatorHandle } from '../../src/simulator';
import { sendTaskQueue } from '../../src/contracts/task-queues';
import { REPO, startCli, stopAll, TSX_CLI } from './cli-process';

/** `faxflow worker` as an operator runs it: against a Temporal cluster, Postgres and RingCentral. */
let simulator: SimulatorHandle;
let connection: Connection;
beforeAll(async () => {
  simulator = await startSimulator({ timeScale: 0.002 });
  connection = await Connection.connect({ address: inject('temporalAddress') });
});
afterEach(stopAll);
afterAll(async () => {
  await connection?.close();
  await simulator?.close();
});

const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = temporal.api.enums.v1.TaskQueueType;

async function pollers(taskQueue: string, type: temporal.api.enums.v1.TaskQueueType): Promise<number> {
  const res = await connection.workflowService.describeTaskQueue({
    namespace: 'default',
    taskQueue: { name: taskQueue },
    taskQueueType: type,
  });
  return res.pollers.length;
}

async function startWorkerAndCheckPolling(env: Record<string, string> = {}): Promise<string> {
  const taskQueue = `entry-worker-${randomUUID()}`;
  const worker = startCli(['worker'], {
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    DATABASE_URL: inject('databaseUrl'),
    RINGCENTRAL_SERVER_URL: simulator.url,
    RINGCENTRAL_CLIENT_ID: simulator.credentials.clientId,
    RINGCENTRAL_CLIENT_SECRET: simulator.credentials.clientSecret,
    RINGCENTRAL_JWT: simulator.credentials.jwt,
    LOG_LEVEL: 'warn',
    ...env,
  });
  await worker.waitFor(new RegExp(`faxflow worker polling ${taskQueue}`), 90_000);
  await expect
    .poll(
      async () => [
        await pollers(taskQueue, TASK_QUEUE_TYPE_WORKFLOW),
        await pollers(taskQueue, TASK_QUEUE_TYPE_ACTIVITY),
        await pollers(sendTaskQueue(taskQueue), TASK_QUEUE_TYPE_ACTIVITY),
      ],
      { timeout: 30_000, interval: 250 },
    )
    .toEqual([1, 1, 1]);

  expect(await worker.stop('SIGINT')).toBe(0);
  expect(worker.output()).toContain('SIGINT: draining and stopping');
  return worker.output();
}

it('faxflow worker polls its workflow and send queues, and stops cleanly on SIGINT', async () => {
  const output = await startWorkerAndCheckPolling();
  expect(output).toContain('workflows bundled from source');
}, 150_000);

it('the production build runs the worker on compiled code and the prebuilt workflow bundle', async () => {
  // Inside the checkout, as dist/ is: compiled code finds node_modules and package.json's ESM type there.
  await mkdir(path.join(REPO, '.faxflow'), { recursive: true });
  const outDir = await mkdtemp(path.join(REPO, '.faxflow', 'build-'));
  try {
    const build = spawnSync(process.execPath, [TSX_CLI, 'scripts/build.ts', '--out-dir', outDir], {
      cwd: REPO,
      encoding: 'utf8',
    });
    expect({ status: build.status, stderr: build.stderr }).toMatchObject({ status: 0 });
    const output = await startWorkerAndCheckPolling({ FAXFLOW_PREBUILT: outDir });
    expect(output).toContain(`workflows from the prebuilt bundle ${path.join(outDir, 'workflow-bundle.js')}`);
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}, 300_000);
